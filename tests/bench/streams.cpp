// coaudio benchmarks: the real streams. coaudio's input_stream, output_stream
// and duplex_stream on a JACK server, each against what a user would otherwise
// write around the same PortAudio stream: a callback with a mutex and a
// condition variable, a callback that posts a copy to an io_context, and
// PortAudio's blocking read; and two floors, the same hand-off with no library
// that only wake the consumer through an eventfd, to tell the wait's cost
// from coaudio's. Nothing here is driven by the bench: PortAudio's JACK
// client calls every callback, coaudio's included.
// Distributed under the Boost Software License, Version 1.0.
//
//   coaudio_bench_streams --jackd PATH --jack-lsp PATH [--out DIR] [--reps N]
//                         [--seconds S] [--blocks 64,256] [--load quiet,busy]
//                         [--only KEY[,KEY...]] [--uring PATH]
//
// --uring PATH adds a row for coaudio's streams on Asio's io_uring backend:
// PATH is this program built with ASIO_HAS_IO_URING and ASIO_DISABLE_EPOLL
// (coaudio_bench_streams_uring; one program cannot hold both backends, the
// macros change Asio's types), which this one starts for each such run with
// the hidden --run-one, on the same JACK server, in turn with the others.
// Its CPU time is its own process's, over the same window. (This program's
// PortAudio client stays on the server meanwhile, idle, so the graph has one
// client more during those runs.) So that this does not pass for the
// backend's cost, --uring also adds coaudio-apart: this program, on epoll,
// started the same way.
//
// The figure is process CPU time per second of audio, over a window of whole
// blocks after a warm-up; the JACK server is another process and is not
// counted. `busy` runs the same cells while two niced processes spin, one per
// core, as a build does on a developer's desktop or a CI machine. Every cell
// runs `--reps` times, the variants interleaved, and the table gives the
// median and the range. The ratio is against the condvar of the same
// direction, block size and load, from the same run. The exit status says
// only whether the runs could be made, never how fast they were.
#include "jack.hpp"

#include <coaudio/coaudio.hpp>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <portaudio.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

namespace bench {
namespace {

enum class way { input, output, duplex };
enum class how {
    coaudio,
    condvar,
    post,
    blocking,
    coaudio_uring,
    coaudio_apart,
    asio_floor,
    epoll_floor
};

/// The io_uring build of this program (--uring), or empty.
std::string uring_program;

struct cell {
    way dir;
    how kind;
};

const char* way_name(way w)
{
    switch (w) {
    case way::input: return "input";
    case way::output: return "output";
    case way::duplex: return "duplex";
    }
    return "?";
}
const char* how_key(how h)
{
    switch (h) {
    case how::coaudio: return "coaudio";
    case how::condvar: return "condvar";
    case how::post: return "post";
    case how::blocking: return "blocking";
    case how::coaudio_uring: return "coaudio-uring";
    case how::coaudio_apart: return "coaudio-apart";
    case how::asio_floor: return "asio-floor";
    case how::epoll_floor: return "epoll-floor";
    }
    return "?";
}

/// Every variant: each repetition runs them all, from a different one each time.
const std::vector<way> ways{way::input, way::output, way::duplex};
const std::vector<how> hows{how::coaudio, how::coaudio_apart, how::coaudio_uring, how::condvar,
                            how::post,    how::blocking,      how::asio_floor,    how::epoll_floor};

// The Asio backend this program runs on.
#if defined(ASIO_HAS_IO_URING_AS_DEFAULT)
constexpr const char* backend = "io_uring";
#else
constexpr const char* backend = "epoll";
#endif
std::string label(way w, how h)
{
    switch (h) {
    case how::coaudio:
    case how::coaudio_uring:
    case how::coaudio_apart:
        return std::string(w == way::input    ? "coaudio `input_stream`"
                           : w == way::output ? "coaudio `output_stream`"
                                              : "coaudio `duplex_stream`") +
               (uring_program.empty() ? "" : ", Asio on ") +
               (uring_program.empty()     ? ""
                : h == how::coaudio_uring ? "io_uring"
                                          : backend) +
               (h == how::coaudio ? "" : ", a process of its own");
    case how::condvar: return "C: callback, mutex + condvar";
    case how::post: return "naive `asio::post` of a copy";
    case how::blocking: return "`Pa_ReadStream` loop";
    case how::asio_floor: return "floor: Asio coroutine reading an eventfd";
    case how::epoll_floor: return "floor: thread in `epoll_wait` + `read`";
    }
    return "?";
}

// ---- one run -------------------------------------------------------------------

struct request {
    way dir;
    int device;
    int block;
    int blocks; ///< handed over in all, warm-up included
    int warmup;
};

struct result {
    double cpu_ms_per_s = no_figure;
    std::uint64_t lost = 0;  ///< times the variant's own buffer was full or empty, in the window
    std::uint64_t xruns = 0; ///< callbacks PortAudio flagged (input overflow, output underflow)
    std::string note;        ///< why there is no figure
    bool host_gone = false;  ///< PortAudio's host stopped answering: no more calls
};

/// The consumer's marks: the window opens when block `warmup` is in hand and
/// closes at the last one.
class window {
public:
    explicit window(const request& rq) : rq_(rq) {}
    /// Block `i` (0-based, in order) was handed over; true after the last.
    bool step(int i)
    {
        if (i == rq_.warmup) cpu0_ = process_cpu_ns();
        if (i != rq_.blocks - 1) return false;
        cpu1_ = process_cpu_ns();
        return true;
    }
    void fill(result& r) const
    {
        const double seconds = (rq_.blocks - 1 - rq_.warmup) * rq_.block / sample_rate;
        if (cpu0_ != 0 && cpu1_ > cpu0_)
            r.cpu_ms_per_s = static_cast<double>(cpu1_ - cpu0_) / 1e6 / seconds;
        else if (r.note.empty())
            r.note = "the stream ended before the last block";
    }

private:
    const request& rq_;
    std::int64_t cpu0_ = 0, cpu1_ = 0;
};

/// A test signal: each sample is its frame number, so nothing is constant.
void generate(std::span<float> out, std::uint64_t& frame)
{
    for (float& x : out)
        x = static_cast<float>(frame++ % 48000) * (1.0f / 48000.0f);
}

PaStreamParameters pa_parameters(int device, bool input)
{
    PaStreamParameters sp{};
    sp.device = device;
    sp.channelCount = 1;
    sp.sampleFormat = paFloat32;
    const PaDeviceInfo* info = Pa_GetDeviceInfo(device);
    sp.suggestedLatency = info == nullptr ? 0.0
                          : input         ? info->defaultLowInputLatency
                                          : info->defaultLowOutputLatency;
    return sp;
}

/// A PortAudio stream on the request's device, open and started, closed on
/// destruction.
class pa_stream {
public:
    pa_stream(const request& rq, PaStreamCallback* cb, void* user)
    {
        const bool in = rq.dir != way::output, out = rq.dir != way::input;
        const PaStreamParameters ip = pa_parameters(rq.device, true);
        const PaStreamParameters op = pa_parameters(rq.device, false);
        err_ = Pa_OpenStream(&s_, in ? &ip : nullptr, out ? &op : nullptr, sample_rate,
                             static_cast<unsigned long>(rq.block), paNoFlag, cb, user);
        if (err_ == paNoError) err_ = Pa_StartStream(s_);
    }
    pa_stream(const pa_stream&) = delete;
    pa_stream& operator=(const pa_stream&) = delete;
    ~pa_stream()
    {
        if (s_ == nullptr) return;
        Pa_StopStream(s_);
        Pa_CloseStream(s_);
    }
    PaStream* get() const { return s_; }
    bool ok(result& r) const
    {
        if (err_ != paNoError) r.note = std::string("PortAudio: ") + Pa_GetErrorText(err_);
        return err_ == paNoError;
    }

private:
    PaStream* s_ = nullptr;
    PaError err_ = paNoError;
};

// ---- coaudio ----------------------------------------------------------------------

coaudio::stream_config coaudio_config(const request& rq)
{
    return {.device = rq.device,
            .channels = 1,
            .sample_rate = sample_rate,
            .frames_per_block = static_cast<unsigned long>(rq.block),
            .latency = coaudio::latency_hint::low(),
            .ring_frames = ring_frames,
            .stall_timeout = std::chrono::seconds(2)}; // a frozen server ends the run
}

/// {blocks the ring had no room or no data for, host overflow and underflow
/// flags} so far.
template <class Stream>
std::pair<std::uint64_t, std::uint64_t> losses(const Stream& s, int block)
{
    const auto c = s.counters();
    const auto dropped = (c.frames_dropped + static_cast<std::uint64_t>(block) - 1) /
                         static_cast<std::uint64_t>(block);
    return {dropped + c.underflows, c.host_overflows + c.host_underflows};
}

/// One coroutine on one io thread reads and/or writes one block at a time, as
/// examples/passthrough does.
result run_coaudio(const request& rq)
{
    result r;
    window w(rq);
    asio::io_context io;
    const bool in = rq.dir != way::output, out = rq.dir != way::input;
    coaudio::input_stream is(io);
    coaudio::output_stream os(io);
    coaudio::duplex_stream ds(io);
    std::error_code ec;
    if (rq.dir == way::input) is.open(coaudio_config(rq), ec);
    if (rq.dir == way::output) os.open(coaudio_config(rq), ec);
    if (rq.dir == way::duplex) ds.open({coaudio_config(rq), coaudio_config(rq)}, ec);
    if (!ec) {
        if (rq.dir == way::input) is.start(ec);
        if (rq.dir == way::output) os.start(ec);
        if (rq.dir == way::duplex) ds.start(ec);
    }
    // A stall, or a PortAudio call that did not return: PortAudio's JACK
    // host waits for a client that JACK gave up on, and so would the next call.
    auto failed = [&r](std::error_code e) {
        r.note = e.message();
        r.host_gone = e == coaudio::errc::host_not_responding || e == coaudio::errc::stalled;
    };
    if (ec) {
        failed(ec);
        return r;
    }
    std::pair<std::uint64_t, std::uint64_t> lost0{};
    auto lost = [&] {
        return rq.dir == way::input    ? losses(is, rq.block)
               : rq.dir == way::output ? losses(os, rq.block)
                                       : losses(ds, rq.block);
    };
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::vector<float> block(static_cast<std::size_t>(rq.block));
            std::uint64_t frame = 0;
            auto read = [&]() -> asio::awaitable<bool> {
                auto [e, n] = rq.dir == way::input
                                  ? co_await is.async_read_frames(
                                        std::span(block), coaudio::as_tuple(asio::use_awaitable))
                                  : co_await ds.async_read_frames(
                                        std::span(block), coaudio::as_tuple(asio::use_awaitable));
                if (e) failed(e);
                co_return !e && n == block.size();
            };
            auto write = [&]() -> asio::awaitable<bool> {
                auto [e, n] = rq.dir == way::output
                                  ? co_await os.async_write_frames(
                                        std::span(block), coaudio::as_tuple(asio::use_awaitable))
                                  : co_await ds.async_write_frames(
                                        std::span(block), coaudio::as_tuple(asio::use_awaitable));
                if (e) failed(e);
                co_return !e && n == block.size();
            };
            if (rq.dir == way::duplex && !co_await write()) co_return; // a block of slack
            for (int i = 0; i < rq.blocks; ++i) {
                if (in && !co_await read()) co_return;
                if (rq.dir == way::output) generate(block, frame);
                if (out && !co_await write()) co_return;
                if (i == rq.warmup) lost0 = lost();
                if (w.step(i)) {
                    r.lost = lost().first - lost0.first;
                    r.xruns = lost().second - lost0.second;
                    co_return;
                }
            }
        },
        asio::detached);
    io.run();
    w.fill(r);
    return r;
}

// ---- C: a callback, a mutex and a condition variable ----------------------------------
//
// The classic pattern, done well: preallocated slots, as many frames as
// coaudio's ring; copy under the lock, signal after unlocking.
class slots {
public:
    explicit slots(int block)
        : block_(static_cast<std::size_t>(block)),
          data_(std::max<std::size_t>(2, ring_frames / block_) * block_)
    {
    }
    std::size_t count() const { return data_.size() / block_; }
    bool full() const { return used_ == count(); }
    bool empty() const { return used_ == 0; }
    void push(const float* src)
    {
        std::copy_n(src, block_, &data_[((head_ + used_) % count()) * block_]);
        ++used_;
    }
    void pop(float* dst)
    {
        std::copy_n(&data_[head_ * block_], block_, dst);
        head_ = (head_ + 1) % count();
        --used_;
    }

private:
    std::size_t block_;
    std::vector<float> data_;
    std::size_t head_ = 0, used_ = 0;
};

struct condvar_state {
    explicit condvar_state(int block) : in(block), out(block) {}
    std::mutex m;
    std::condition_variable cv;
    slots in, out;
    std::uint64_t lost = 0, xruns = 0;
    bool counting = false;

    static int callback(const void* input, void* output, unsigned long frames,
                        const PaStreamCallbackTimeInfo*, PaStreamCallbackFlags flags, void* user)
    {
        auto& s = *static_cast<condvar_state*>(user);
        bool missed = false;
        {
            std::lock_guard lock(s.m);
            if (input != nullptr) {
                if (s.in.full())
                    missed = true;
                else
                    s.in.push(static_cast<const float*>(input));
            }
            if (output != nullptr) {
                if (s.out.empty()) {
                    missed = true;
                    std::fill_n(static_cast<float*>(output), frames, 0.0f);
                } else
                    s.out.pop(static_cast<float*>(output));
            }
            if (s.counting) {
                s.lost += missed;
                s.xruns += (flags & (paInputOverflow | paOutputUnderflow)) != 0;
            }
        }
        s.cv.notify_one();
        return paContinue;
    }
};

result run_condvar(const request& rq)
{
    result r;
    window w(rq);
    condvar_state st(rq.block);
    const bool in = rq.dir != way::output, out = rq.dir != way::input;
    std::vector<float> block(static_cast<std::size_t>(rq.block));
    std::uint64_t frame = 0;
    if (rq.dir == way::duplex) st.out.push(block.data()); // a block of slack
    pa_stream s(rq, &condvar_state::callback, &st);
    if (!s.ok(r)) return r;
    std::thread consumer([&] {
        std::unique_lock lock(st.m);
        for (int i = 0; i < rq.blocks; ++i) {
            if (in) {
                st.cv.wait(lock, [&] { return !st.in.empty(); });
                st.in.pop(block.data());
            }
            if (rq.dir == way::output) {
                lock.unlock();
                generate(block, frame);
                lock.lock();
            }
            if (out) {
                st.cv.wait(lock, [&] { return !st.out.full(); });
                st.out.push(block.data());
            }
            if (i == rq.warmup) st.counting = true;
            if (w.step(i)) {
                st.counting = false;
                break;
            }
        }
    });
    consumer.join();
    r.lost = st.lost;
    r.xruns = st.xruns;
    w.fill(r);
    return r;
}

// ---- naive asio::post ----------------------------------------------------------
//
// What a C++ user writes first: the callback posts a lambda holding a copy of
// its input to the io_context; output comes from a deque under a mutex that
// the handlers fill. An idle timer stands for the application's other I/O
// objects, so the io thread sleeps in the reactor, as it does in a real program.
struct post_state {
    asio::io_context io;
    asio::steady_timer idle{io};
    std::mutex m;
    std::deque<std::vector<float>> out;
    std::function<void(std::vector<float>)> on_input;
    std::function<void()> on_need;
    std::atomic<std::uint64_t> lost = 0, xruns = 0;
    std::atomic<bool> counting = false;

    static int callback(const void* input, void* output, unsigned long frames,
                        const PaStreamCallbackTimeInfo*, PaStreamCallbackFlags flags, void* user)
    {
        auto& s = *static_cast<post_state*>(user);
        if ((flags & (paInputOverflow | paOutputUnderflow)) && s.counting) ++s.xruns;
        if (input != nullptr) {
            const auto* p = static_cast<const float*>(input);
            asio::post(s.io, [&s, copy = std::vector<float>(p, p + frames)]() mutable {
                s.on_input(std::move(copy));
            });
        }
        if (output != nullptr) {
            std::vector<float> next;
            {
                std::lock_guard lock(s.m);
                if (!s.out.empty()) {
                    next = std::move(s.out.front());
                    s.out.pop_front();
                } else if (s.counting)
                    ++s.lost;
            }
            if (next.size() == frames)
                std::copy(next.begin(), next.end(), static_cast<float*>(output));
            else
                std::fill_n(static_cast<float*>(output), frames, 0.0f);
            if (input == nullptr) asio::post(s.io, [&s] { s.on_need(); });
        }
        return paContinue;
    }
};

result run_post(const request& rq)
{
    result r;
    window w(rq);
    post_state st;
    auto work = asio::make_work_guard(st.io);
    const std::size_t prefill = std::max<std::size_t>(2, ring_frames / 2 / rq.block);
    std::uint64_t frame = 0;
    int i = 0;
    auto step = [&] {
        if (i == rq.warmup) st.counting = true;
        if (i < rq.blocks && w.step(i++)) {
            st.counting = false;
            work.reset();
            st.io.stop();
        }
    };
    auto give = [&](std::vector<float> b) {
        std::lock_guard lock(st.m);
        st.out.push_back(std::move(b));
    };
    st.on_input = [&](std::vector<float> b) {
        if (rq.dir == way::duplex) give(std::move(b)); // passed through
        step();
    };
    st.on_need = [&] {
        std::vector<float> b(static_cast<std::size_t>(rq.block));
        generate(b, frame);
        give(std::move(b));
        step();
    };
    const int ahead = rq.dir == way::output ? static_cast<int>(prefill) : 1;
    for (int k = 0; k < ahead; ++k)
        give(std::vector<float>(static_cast<std::size_t>(rq.block)));
    pa_stream s(rq, &post_state::callback, &st);
    if (!s.ok(r)) return r;
    std::thread consumer([&] { st.io.run(); });
    consumer.join();
    r.lost = st.lost;
    r.xruns = st.xruns;
    w.fill(r);
    return r;
}

// ---- floors: the same hand-off with no library ----------------------------------
//
// What the wake-up alone costs on this machine. The callback copies into slots
// of its own (one writer, one reader, no lock) and, as coaudio's does, writes
// an eventfd only when the consumer waits. The consumer waits in one of two
// ways:
//   - asio-floor: a coroutine on an io_context reads the eventfd with
//     `async_read_some`, the wait coaudio's streams use, without coaudio's
//     ring, gap records or composed operation: what Asio's wait costs;
//   - epoll-floor: a plain thread in `epoll_wait`, then a `read` that drains
//     the eventfd: what a wait on a descriptor costs with no Asio at all.
// Against the condvar, whose threads meet in futex calls, these say how much
// of coaudio's cost is the wait on a descriptor, and how much of that is Asio's.
class lockfree_slots {
public:
    explicit lockfree_slots(int block)
        : block_(static_cast<std::size_t>(block)),
          n_(std::max<std::size_t>(2, ring_frames / block_)), data_(n_ * block_)
    {
    }
    // Sequentially consistent, as the parked flag is: the consumer's "park,
    // then look again" and the callback's "move, then look at parked" must
    // not pass each other.
    bool empty() const { return head_.load() == tail_.load(); }
    bool full() const { return tail_.load() - head_.load() == n_; }
    bool push(const float* src)
    {
        const std::size_t t = tail_.load(std::memory_order_relaxed);
        if (t - head_.load() == n_) return false;
        std::copy_n(src, block_, &data_[(t % n_) * block_]);
        tail_.store(t + 1);
        return true;
    }
    bool pop(float* dst)
    {
        const std::size_t h = head_.load(std::memory_order_relaxed);
        if (tail_.load() == h) return false;
        std::copy_n(&data_[(h % n_) * block_], block_, dst);
        head_.store(h + 1);
        return true;
    }

private:
    std::size_t block_, n_;
    std::vector<float> data_;
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
};

struct floor_state {
    explicit floor_state(int block) : in(block), out(block)
    {
        if (bell < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    ~floor_state()
    {
        if (bell >= 0) ::close(bell);
    }
    floor_state(const floor_state&) = delete;
    floor_state& operator=(const floor_state&) = delete;

    lockfree_slots in, out;
    int bell = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    std::atomic<bool> parked{false};
    std::atomic<std::uint64_t> lost{0}, xruns{0};
    std::atomic<bool> counting{false};

    static int callback(const void* input, void* output, unsigned long frames,
                        const PaStreamCallbackTimeInfo*, PaStreamCallbackFlags flags, void* user)
    {
        auto& s = *static_cast<floor_state*>(user);
        bool missed = false;
        if (input != nullptr) missed = !s.in.push(static_cast<const float*>(input));
        if (output != nullptr && !s.out.pop(static_cast<float*>(output))) {
            missed = true;
            std::fill_n(static_cast<float*>(output), frames, 0.0f);
        }
        if (s.counting.load(std::memory_order_relaxed)) {
            s.lost += missed;
            s.xruns += (flags & (paInputOverflow | paOutputUnderflow)) != 0;
        }
        if (s.parked.load() && s.parked.exchange(false)) {
            const std::uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(s.bell, &one, sizeof one);
        }
        return paContinue;
    }

    /// True when the consumer may go on: input to take (`reading`), or room
    /// for output. Otherwise it marks itself parked, and the caller waits.
    bool ready_or_park(bool reading)
    {
        auto ready = [&] { return reading ? !in.empty() : !out.full(); };
        if (ready()) return true;
        parked.store(true);
        if (!ready()) return false;
        parked.store(false); // a ring that raced this is read by the next wait
        return true;
    }
};

/// The consumer's loop, the condvar's: take a block, make one, give a block.
/// `wait(reading)` returns once the block or the room may be there, false to give up.
template <class Wait>
auto floor_loop(const request& rq, floor_state& st, window& w, Wait wait)
{
    return [&rq, &st, &w, wait]() mutable -> asio::awaitable<void> {
        const bool in = rq.dir != way::output, out = rq.dir != way::input;
        std::vector<float> block(static_cast<std::size_t>(rq.block));
        std::uint64_t frame = 0;
        for (int i = 0; i < rq.blocks; ++i) {
            if (in) {
                while (!st.ready_or_park(true))
                    if (!co_await wait()) co_return;
                st.in.pop(block.data());
            }
            if (rq.dir == way::output) generate(block, frame);
            if (out) {
                while (!st.ready_or_park(false))
                    if (!co_await wait()) co_return;
                st.out.push(block.data());
            }
            if (i == rq.warmup) st.counting = true;
            if (w.step(i)) break;
        }
        st.counting = false;
    };
}

result run_floor(const request& rq, bool use_asio)
{
    result r;
    window w(rq);
    floor_state st(rq.block);
    if (rq.dir == way::duplex) st.out.push(std::vector<float>(rq.block).data()); // slack
    asio::io_context io;
    struct owned_fd {
        int fd;
        ~owned_fd()
        {
            if (fd >= 0) ::close(fd);
        }
    } ep{use_asio ? -1 : ::epoll_create1(EPOLL_CLOEXEC)};
    if (use_asio) {
        auto bell = std::make_shared<asio::posix::stream_descriptor>(io, ::dup(st.bell));
        auto scratch = std::make_shared<std::uint64_t>();
        asio::co_spawn(io,
                       floor_loop(rq, st, w,
                                  [bell, scratch]() -> asio::awaitable<bool> {
                                      auto [e, n] = co_await bell->async_read_some(
                                          asio::buffer(scratch.get(), sizeof *scratch),
                                          coaudio::as_tuple(asio::use_awaitable));
                                      co_return !e;
                                  }),
                       asio::detached);
    } else {
        // The same loop with a wait that blocks the thread: the coroutine
        // never suspends, so the io_context only runs it through.
        epoll_event ev{};
        ev.events = EPOLLIN;
        if (ep.fd < 0 || ::epoll_ctl(ep.fd, EPOLL_CTL_ADD, st.bell, &ev) != 0) {
            r.note = "epoll: cannot watch the eventfd";
            return r;
        }
        asio::co_spawn(io,
                       floor_loop(rq, st, w,
                                  [ep = ep.fd, bell = st.bell]() -> asio::awaitable<bool> {
                                      epoll_event e{};
                                      int n;
                                      while ((n = ::epoll_wait(ep, &e, 1, 10'000)) < 0 &&
                                             errno == EINTR) {
                                      }
                                      if (n != 1) co_return false;
                                      std::uint64_t count;
                                      n = static_cast<int>(::read(bell, &count, sizeof count));
                                      if (n < 0) co_return false;
                                      co_return true;
                                  }),
                       asio::detached);
    }
    pa_stream s(rq, &floor_state::callback, &st);
    if (!s.ok(r)) return r;
    std::thread consumer([&] { io.run(); });
    consumer.join();
    r.lost = st.lost;
    r.xruns = st.xruns;
    w.fill(r);
    return r;
}

// ---- PortAudio's blocking calls ---------------------------------------------------

/// Input only: see selected().
result run_blocking(const request& rq)
{
    result r;
    window w(rq);
    pa_stream s(rq, nullptr, nullptr);
    if (!s.ok(r)) return r;
    std::thread consumer([&] {
        std::vector<float> block(static_cast<std::size_t>(rq.block) * pa_read_overallocation);
        for (int i = 0; i < rq.blocks; ++i) {
            const PaError e =
                Pa_ReadStream(s.get(), block.data(), static_cast<unsigned long>(rq.block));
            if (e == paInputOverflowed && i > rq.warmup)
                ++r.lost; // PortAudio's buffer between its callback and this read
            else if (e != paNoError && e != paInputOverflowed)
                return;
            if (w.step(i)) return;
        }
    });
    consumer.join();
    w.fill(r);
    return r;
}

/// coaudio's stream in `program`, this one or its io_uring build, which
/// writes "cpu lost xruns host_gone note" on one line (--run-one).
result run_external(const std::string& program, const request& rq)
{
    result r;
    const std::string command = "'" + program + "' --run-one " +
                                std::to_string(static_cast<int>(rq.dir)) + " " +
                                std::to_string(rq.block) + " " + std::to_string(rq.blocks) + " " +
                                std::to_string(rq.warmup);
    std::fflush(nullptr);
    std::FILE* in = ::popen(command.c_str(), "r");
    if (in == nullptr) {
        r.note = "could not start " + program;
        return r;
    }
    std::string text;
    char buf[512];
    while (std::fgets(buf, sizeof buf, in) != nullptr)
        text += buf;
    const int status = ::pclose(in);
    std::istringstream line(text);
    std::string cpu_text;
    unsigned long long lost = 0, xruns = 0;
    int gone = 0;
    if (!(line >> cpu_text >> lost >> xruns >> gone)) {
        r.note = program + " gave no figure (status " + std::to_string(status) + ")";
        return r;
    }
    r.cpu_ms_per_s = std::strtod(cpu_text.c_str(), nullptr);
    r.lost = lost;
    r.xruns = xruns;
    r.host_gone = gone != 0;
    std::getline(line >> std::ws, r.note);
    return r;
}

result run(how h, const request& rq)
{
    switch (h) {
    case how::coaudio: return run_coaudio(rq);
    case how::condvar: return run_condvar(rq);
    case how::post: return run_post(rq);
    case how::blocking: return run_blocking(rq);
    case how::coaudio_uring: return run_external(uring_program, rq);
    case how::coaudio_apart: return run_external(fs::read_symlink("/proc/self/exe"), rq);
    case how::asio_floor: return run_floor(rq, true);
    case how::epoll_floor: return run_floor(rq, false);
    }
    return {};
}

/// --run-one WAY BLOCK BLOCKS WARMUP [KEY]: one run of coaudio's stream, or
/// of the variant KEY (as --only names them; not one that runs another
/// program), on the JACK server of JACK_DEFAULT_SERVER, its figures on
/// stdout. A run alone, so that `strace -f -c` or `perf` can count it.
int run_one(int argc, char** argv)
{
    if (argc != 6 && argc != 7) return 2;
    how h = how::coaudio;
    if (argc == 7) {
        const std::string key = argv[6];
        const auto it = std::ranges::find_if(hows, [&](how x) { return key == how_key(x); });
        if (it == hows.end() || *it == how::coaudio_uring || *it == how::coaudio_apart) {
            std::fprintf(stderr, "--run-one: no variant %s runs in this program\n", key.c_str());
            return 2;
        }
        h = *it;
    }
    coaudio::library lib; // PortAudio meets the server
    const int device = jack_device();
    if (device < 0) {
        std::printf("nan 0 0 0 PortAudio sees no JACK device\n");
        return 1;
    }
    const request rq{static_cast<way>(std::atoi(argv[2])), device, std::atoi(argv[3]),
                     std::atoi(argv[4]), std::atoi(argv[5])};
    const result r = run(h, rq);
    std::printf("%.17g %llu %llu %d %s\n", r.cpu_ms_per_s, static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.xruns), r.host_gone ? 1 : 0, r.note.c_str());
    std::fflush(stdout);
    if (r.host_gone) std::_Exit(1); // as run_cell: the late call never returns
    return 0;
}

// ---- load ---------------------------------------------------------------------

/// Processes that spin at nice 10, one per core, while it lives.
class busy_load {
public:
    explicit busy_load(unsigned n)
    {
        for (unsigned i = 0; i < n; ++i) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                ::setpriority(PRIO_PROCESS, 0, 10);
                volatile std::uint64_t spins = 0;
                for (;;)
                    spins = spins + 1;
            }
            if (pid > 0) pids_.push_back(pid);
        }
    }
    busy_load(const busy_load&) = delete;
    busy_load& operator=(const busy_load&) = delete;
    ~busy_load()
    {
        for (pid_t pid : pids_) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }

private:
    std::vector<pid_t> pids_;
};

// ---- options and report ----------------------------------------------------------

struct options {
    std::string jackd, jack_lsp, only, uring;
    fs::path out = ".";
    int reps = 5; // the figures move a lot from run to run: a median of five
    double seconds = 3.0;
    std::vector<int> blocks{64, 256};
    std::vector<std::string> loads{"quiet", "busy"};
};

[[noreturn]] void usage(int status)
{
    std::fputs("usage: coaudio_bench_streams --jackd PATH --jack-lsp PATH [--out DIR] [--reps N]\n"
               "                             [--seconds S] [--blocks 64,256] [--load quiet,busy]\n"
               "                             [--only KEY[,KEY...]] [--uring PATH]\n"
               "KEY: coaudio condvar post blocking asio-floor epoll-floor coaudio-uring, or "
               "DIRECTION-KEY "
               "(input-coaudio, ...)\n",
               status == 0 ? stdout : stderr);
    std::exit(status);
}

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> v;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) v.push_back(item);
    return v;
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--jackd")
            o.jackd = value();
        else if (a == "--jack-lsp")
            o.jack_lsp = value();
        else if (a == "--out")
            o.out = value();
        else if (a == "--only")
            o.only = value();
        else if (a == "--uring")
            o.uring = value();
        else if (a == "--reps")
            o.reps = std::max(1, std::atoi(value().c_str()));
        else if (a == "--seconds")
            o.seconds = std::clamp(std::atof(value().c_str()), 0.5, 600.0);
        else if (a == "--blocks") {
            o.blocks.clear();
            for (const auto& b : split(value()))
                o.blocks.push_back(std::clamp(std::atoi(b.c_str()), 16, 8192));
        } else if (a == "--load") {
            o.loads = split(value());
            for (const auto& l : o.loads)
                if (l != "quiet" && l != "busy") usage(2);
        } else if (a == "-h" || a == "--help")
            usage(0);
        else {
            std::fprintf(stderr, "coaudio_bench_streams: unknown argument '%s'\n", a.c_str());
            usage(2);
        }
    }
    if (o.jackd.empty() || o.jack_lsp.empty() || o.blocks.empty() || o.loads.empty()) usage(2);
    return o;
}

bool selected(const options& o, const cell& c)
{
    // PortAudio's JACK blocking layer takes two samples a frame whatever the
    // stream has (pa_jack.c, BlockingBegin: samplesPerFrame = 2); reads of a
    // mono stream survive a larger buffer, but a mono Pa_WriteStream corrupts
    // PortAudio's heap. So the blocking loop is an input row only.
    if (c.kind == how::blocking && c.dir != way::input) return false;
    if ((c.kind == how::coaudio_uring || c.kind == how::coaudio_apart) && o.uring.empty())
        return false;
    return listed(o.only, how_key(c.kind)) ||
           listed(o.only, std::string(way_name(c.dir)) + "-" + how_key(c.kind));
}

struct samples {
    std::vector<double> cpu;
    std::uint64_t lost = 0, xruns = 0;
    std::string note;
};

} // namespace
} // namespace bench

namespace bench {
namespace {

/// One load and block size: a JACK server, PortAudio, `reps` rounds of every
/// variant. Runs in a child process and writes one line a run to `out`:
/// "way how cpu lost xruns note". On a loaded machine JACK may give up on a
/// client that misses its deadlines, and PortAudio's JACK host then waits
/// for a callback that never comes (ten minutes); a process of its own keeps
/// that from taking the other cells with it.
int run_cell(const options& o, const std::string& load, int block, std::FILE* out)
{
    jack_server server(o.jackd, o.jack_lsp, o.out, block);
    if (!server.start()) {
        std::fprintf(stderr, "bench: streams: JACK server %s did not start; see %s\n",
                     server.name().c_str(), o.out.c_str());
        return 1;
    }
    std::error_code lib_ec;
    coaudio::library lib(lib_ec); // PortAudio meets this server
    const int device = lib_ec ? -1 : jack_device();
    if (device < 0) {
        std::fprintf(stderr, "bench: streams: PortAudio sees no JACK device on %s\n",
                     server.name().c_str());
        return 1;
    }
    std::optional<busy_load> busy;
    if (load == "busy") busy.emplace(std::max(1u, std::thread::hardware_concurrency()));
    const int blocks = static_cast<int>(o.seconds * sample_rate / block);
    const int warmup = std::max(20, blocks / 8);
    for (int rep = 0; rep < o.reps; ++rep) {
        std::fprintf(stderr, "bench: streams: %s, %d frames, repetition %d of %d\n", load.c_str(),
                     block, rep + 1, o.reps);
        for (way w : ways)
            for (std::size_t k = 0; k < hows.size(); ++k) {
                const how h = hows[(k + static_cast<std::size_t>(rep)) % hows.size()];
                if (!selected(o, {w, h})) continue;
                const result r = run(h, {w, device, block, blocks, warmup});
                std::fprintf(out, "%d %d %.17g %llu %llu %s\n", static_cast<int>(w),
                             static_cast<int>(h), r.cpu_ms_per_s,
                             static_cast<unsigned long long>(r.lost),
                             static_cast<unsigned long long>(r.xruns), r.note.c_str());
                std::fflush(out);
                if (r.host_gone) {
                    std::fprintf(stderr,
                                 "bench: streams: %s, %d frames: PortAudio's JACK "
                                 "client no longer answers; the rest of this cell is skipped\n",
                                 load.c_str(), block);
                    std::_Exit(1); // the late call never returns; the server dies with us
                }
            }
    }
    return 0;
} // Pa_Terminate, then the server stops

} // namespace
} // namespace bench

int main(int argc, char** argv)
{
    using namespace bench;
    if (argc > 1 && std::string(argv[1]) == "--run-one") return run_one(argc, argv);
    const options o = parse(argc, argv);
    uring_program = o.uring;
    fs::create_directories(o.out);
    // load, block, direction, variant -> samples
    std::map<std::tuple<std::string, int, int, int>, samples> table;
    bool any_failed = false;

    for (const std::string& load : o.loads) {
        for (int block : o.blocks) {
            int fds[2];
            if (::pipe(fds) != 0) return 1;
            std::fflush(nullptr);
            const pid_t child = ::fork();
            if (child < 0) return 1;
            if (child == 0) {
                ::close(fds[0]);
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                std::FILE* out = ::fdopen(fds[1], "w");
                std::_Exit(out != nullptr ? run_cell(o, load, block, out) : 1);
            }
            ::close(fds[1]);
            // Every run, with set-up, in far less than this.
            const double limit = o.reps * 11.0 * (o.seconds * 1.5 + 15.0);
            const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(limit * 1e9);
            std::string pending;
            bool killed = false;
            for (;;) {
                const std::int64_t left_ms = (deadline - now_ns()) / 1'000'000;
                pollfd p{fds[0], POLLIN, 0};
                if (left_ms <= 0 || ::poll(&p, 1, static_cast<int>(left_ms)) == 0) {
                    ::kill(child, SIGKILL);
                    killed = true;
                    break;
                }
                char buf[4096];
                const ssize_t n = ::read(fds[0], buf, sizeof buf);
                if (n <= 0) break;
                pending.append(buf, static_cast<std::size_t>(n));
                for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
                    std::istringstream line(pending.substr(0, nl));
                    pending.erase(0, nl + 1);
                    int w = 0, h = 0;
                    double cpu = no_figure;
                    std::string cpu_text;
                    unsigned long long lost = 0, xruns = 0;
                    line >> w >> h >> cpu_text >> lost >> xruns;
                    cpu = std::strtod(cpu_text.c_str(), nullptr);
                    std::string note;
                    std::getline(line >> std::ws, note);
                    auto& s = table[{load, block, w, h}];
                    if (!std::isnan(cpu)) s.cpu.push_back(cpu);
                    s.lost += lost;
                    s.xruns += xruns;
                    if (!note.empty()) {
                        s.note = note;
                        any_failed = true;
                        std::fprintf(stderr, "bench: streams: %s %s: %s\n",
                                     way_name(static_cast<way>(w)), how_key(static_cast<how>(h)),
                                     note.c_str());
                    }
                }
            }
            ::close(fds[0]);
            int status = 0;
            ::waitpid(child, &status, 0);
            if (killed)
                std::fprintf(stderr,
                             "bench: streams: %s, %d frames: not finished within %.0f s; "
                             "stopped\n",
                             load.c_str(), block, limit);
            if (killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) any_failed = true;
        }
    }

    std::printf("\nReal streams on JACK (dummy driver, 48 kHz mono, %.0f s a run): process CPU ms "
                "per audio second, median and range of %d runs; the ratio is to the condvar's "
                "median in the same cell.\n\n",
                o.seconds, o.reps);
    std::printf(
        "| stream | load | frames | CPU ms/s | range | ratio to condvar | buffer full/empty | "
        "host xruns |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (way w : ways)
        for (const std::string& load : o.loads)
            for (int block : o.blocks) {
                const auto at = [&](how h) -> const samples* {
                    auto it = table.find({load, block, static_cast<int>(w), static_cast<int>(h)});
                    return it == table.end() ? nullptr : &it->second;
                };
                const samples* base = at(how::condvar);
                const double base_cpu = base != nullptr ? median(base->cpu) : no_figure;
                for (how h : hows) {
                    const samples* s = at(h);
                    if (s == nullptr) continue;
                    const double m = median(s->cpu);
                    std::string range = "–";
                    if (!s->cpu.empty())
                        range = fmt(*std::min_element(s->cpu.begin(), s->cpu.end()), 1) + "–" +
                                fmt(*std::max_element(s->cpu.begin(), s->cpu.end()), 1);
                    std::printf("| %s: %s | %s | %d | %s | %s | %s | %llu | %llu |\n", way_name(w),
                                label(w, h).c_str(), load.c_str(), block, fmt(m, 1).c_str(),
                                range.c_str(),
                                h == how::condvar ? "1" : fmt(m / base_cpu, 2).c_str(),
                                static_cast<unsigned long long>(s->lost),
                                static_cast<unsigned long long>(s->xruns));
                }
            }
    std::fflush(stdout);
    return any_failed ? 1 : 0;
}
