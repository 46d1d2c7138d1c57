// coaudio benchmarks: the variants (coaudio and what users would otherwise
// write) and the two drivers that feed them blocks.
// Distributed under the Boost Software License, Version 1.0.
#include "bench.hpp"

#include <coaudio/input_stream.hpp>

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
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bench {

namespace cd = coaudio::detail;

collect_phase callgrind_phase = collect_phase::none;
int synthetic_rt_priority = 10;
std::string timeline_dir;
std::atomic<bool> synthetic_rt_granted{false};

const char* driver_name(driver_kind d) noexcept
{
    return d == driver_kind::synthetic ? "synthetic" : "jack";
}

const char* variant_key(variant_kind k) noexcept
{
    switch (k) {
    case variant_kind::coaudio: return "coaudio";
    case variant_kind::coaudio_native: return "coaudio_pa_stream";
    case variant_kind::asio_post: return "asio_post";
    case variant_kind::asio_post_bare: return "asio_post_bare_io_context";
    case variant_kind::condvar: return "mutex_condvar";
    case variant_kind::pa_blocking: return "pa_read_stream";
    case variant_kind::eventfd_floor: return "floor_eventfd_epoll";
    case variant_kind::futex_floor: return "floor_futex";
    case variant_kind::asio_floor: return "floor_asio_coroutine";
    }
    return "?";
}

const char* variant_label(variant_kind k) noexcept
{
    switch (k) {
    case variant_kind::coaudio: return "coaudio";
    case variant_kind::coaudio_native: return "coaudio, own PortAudio stream";
    case variant_kind::asio_post: return "naive asio::post";
    case variant_kind::asio_post_bare: return "naive asio::post, bare io_context";
    case variant_kind::condvar: return "mutex + condvar";
    case variant_kind::pa_blocking: return "Pa_ReadStream";
    case variant_kind::eventfd_floor: return "floor: eventfd + epoll";
    case variant_kind::futex_floor: return "floor: futex";
    case variant_kind::asio_floor: return "floor: Asio coroutine on eventfd";
    }
    return "?";
}

void audio_step(variant& v, timeline& tl, float* block, std::uint32_t index) noexcept
{
    stamp(block, index);
    const bool measured = index >= static_cast<std::uint32_t>(tl.warmup);
    const bool collect = measured && callgrind_phase == collect_phase::audio;
    const op_counts before = thread_counts();
    const std::int64_t t0 = now_ns();
    if (collect) COAUDIO_BENCH_TOGGLE_COLLECT();
    v.publish(block, static_cast<std::size_t>(tl.block));
    if (collect) COAUDIO_BENCH_TOGGLE_COLLECT();
    const std::int64_t t1 = now_ns();
    const op_counts after = thread_counts();
    tl.pub[index] = t1;
    tl.entry[index] = t0;
    tl.cost[index] = t1 - t0;
    if (measured) tl.audio_ops += after - before;
    if (index == static_cast<std::uint32_t>(tl.warmup)) {
        tl.cpu_start.store(process_cpu_ns(), std::memory_order_relaxed);
        tl.wall_start.store(now_ns(), std::memory_order_relaxed);
    }
}

namespace {

// ---- 1. coaudio ---------------------------------------------------------------
//
// The library as a user meets it: an input_stream on an io_context, a
// coroutine awaiting async_read_frames of one block. The driver plays
// PortAudio by calling stream_core::process, the callback body itself.
class coaudio_variant final : public variant {
public:
    void prepare(timeline& tl) override
    {
        tl_ = &tl;
        cd::stream_params p;
        p.channels = 1;
        p.format = coaudio::sample_format::float32;
        p.sample_rate = sample_rate;
        p.frames_per_block = static_cast<unsigned long>(tl.block);
        auto core = std::make_unique<cd::stream_core>(cd::direction::input, p, ring_frames);
        core_ = core.get();
        coaudio::detail::core_access::open(in_, std::move(core));
        in_.start();
        asio::co_spawn(io_, read_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    void publish(const float* block, std::size_t frames) noexcept override
    {
        core_->process(block, nullptr, frames, 0);
    }
    void stop() noexcept override
    {
        asio::post(io_, [this] { in_.close(); });
    }
    void join() override { thread_.join(); }
    std::uint64_t frames_dropped() const noexcept override { return dropped_; }

private:
    asio::awaitable<void> read_loop()
    {
        consumer_probe probe(*tl_);
        std::vector<float> block(static_cast<std::size_t>(tl_->block));
        for (;;) {
            auto [ec, frames] = co_await in_.async_read_frames(
                std::span(block), coaudio::as_tuple(asio::use_awaitable));
            const std::int64_t t = now_ns();
            if (ec) break;
            if (frames == block.size() && probe.received(stamp_of(block.data()), t)) break;
        }
        dropped_ = in_.counters().frames_dropped;
        probe.finish();
    }

    timeline* tl_ = nullptr;
    asio::io_context io_;
    coaudio::input_stream in_{io_.get_executor()};
    cd::stream_core* core_ = nullptr;
    std::thread thread_;
    std::uint64_t dropped_ = 0;
};

// ---- 2. naive Asio --------------------------------------------------------------
//
// What a C++ user writes first: post a lambda holding a copy of the block to
// the io_context. The handler has the block in hand when it starts.
//
// An application's io_context holds I/O objects (sockets, timers, signal
// sets, or coaudio's own doorbell), so its idle thread sleeps in epoll and a
// post from another thread wakes it through Asio's reactor interrupter; an
// idle steady_timer reproduces that. With no I/O object at all Asio's
// scheduler sleeps on a condition variable instead: `bare` measures that
// case too.
class asio_post_variant final : public variant {
public:
    explicit asio_post_variant(bool bare)
    {
        if (!bare) timer_.emplace(io_);
    }
    void prepare(timeline& tl) override
    {
        probe_.emplace(tl);
        work_.emplace(io_.get_executor());
        thread_ = std::thread([this] {
            io_.run();
            probe_->finish();
        });
    }
    void publish(const float* block, std::size_t frames) noexcept override
    {
        asio::post(io_, [this, copy = std::vector<float>(block, block + frames)] {
            const std::int64_t t = now_ns();
            if (probe_->received(stamp_of(copy.data()), t)) work_.reset();
        });
    }
    void stop() noexcept override { io_.stop(); }
    void join() override { thread_.join(); }

private:
    asio::io_context io_;
    std::optional<asio::steady_timer> timer_; // never armed: it only brings up the reactor
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::optional<consumer_probe> probe_;
    std::thread thread_;
};

// ---- 3. mutex + condition variable ------------------------------------------------
//
// The classic C pattern, done well: preallocated slots (as many frames as
// coaudio's ring), copy in under the lock, signal after unlocking.
class condvar_variant final : public variant {
public:
    void prepare(timeline& tl) override
    {
        tl_ = &tl;
        block_ = static_cast<std::size_t>(tl.block);
        slots_ = ring_frames / block_;
        storage_.assign(slots_ * block_, 0.0f);
        thread_ = std::thread([this] { consume(); });
    }
    void publish(const float* block, std::size_t frames) noexcept override
    {
        {
            std::lock_guard lock(mutex_);
            if (tail_ - head_ < slots_) {
                std::memcpy(&storage_[(tail_ % slots_) * block_], block, frames * sizeof(float));
                ++tail_;
            } else {
                dropped_ += frames;
            }
        }
        cv_.notify_one();
    }
    void stop() noexcept override
    {
        {
            std::lock_guard lock(mutex_);
            quit_ = true;
        }
        cv_.notify_one();
    }
    void join() override { thread_.join(); }
    std::uint64_t frames_dropped() const noexcept override { return dropped_; }

private:
    void consume()
    {
        consumer_probe probe(*tl_);
        std::vector<float> block(block_);
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return tail_ != head_ || quit_; });
                if (tail_ == head_) break; // quit
                std::memcpy(block.data(), &storage_[(head_ % slots_) * block_],
                            block_ * sizeof(float));
                ++head_;
            }
            const std::int64_t t = now_ns();
            if (probe.received(stamp_of(block.data()), t)) break;
        }
        probe.finish();
    }

    timeline* tl_ = nullptr;
    std::size_t block_ = 0, slots_ = 0;
    std::vector<float> storage_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t head_ = 0, tail_ = 0;
    bool quit_ = false;
    std::uint64_t dropped_ = 0;
    std::thread thread_;
};

// ---- 5a. floor: eventfd + epoll -----------------------------------------------------
//
// No audio: the callback stores the block number and writes an eventfd; the
// consumer sleeps in epoll_wait and takes its timestamp the moment it
// returns. What any design built on a readiness descriptor pays to wake a
// sleeping thread.
class eventfd_floor final : public variant {
public:
    eventfd_floor()
    {
        efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = efd_;
        if (efd_ < 0 || epfd_ < 0 || ::epoll_ctl(epfd_, EPOLL_CTL_ADD, efd_, &ev) != 0)
            throw std::system_error(errno, std::generic_category(), "eventfd floor");
    }
    ~eventfd_floor() override
    {
        ::close(epfd_);
        ::close(efd_);
    }
    void prepare(timeline& tl) override
    {
        tl_ = &tl;
        thread_ = std::thread([this] { consume(); });
    }
    void publish(const float* block, std::size_t) noexcept override
    {
        latest_.store(stamp_of(block), std::memory_order_release);
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
    }
    void stop() noexcept override
    {
        quit_.store(true, std::memory_order_release);
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
    }
    void join() override { thread_.join(); }

private:
    void consume()
    {
        consumer_probe probe(*tl_);
        for (;;) {
            epoll_event ev{};
            const int n = ::epoll_wait(epfd_, &ev, 1, -1);
            const std::int64_t t = now_ns();
            if (n <= 0) continue;
            std::uint64_t count;
            [[maybe_unused]] auto r = ::read(efd_, &count, sizeof count);
            if (quit_.load(std::memory_order_acquire)) break;
            if (probe.received(latest_.load(std::memory_order_acquire), t)) break;
        }
        probe.finish();
    }

    timeline* tl_ = nullptr;
    int efd_ = -1, epfd_ = -1;
    std::atomic<std::uint32_t> latest_{0};
    std::atomic<bool> quit_{false};
    std::thread thread_;
};

// ---- 5b. floor: futex ------------------------------------------------------------------
//
// No audio: the callback bumps a word and FUTEX_WAKEs it; the consumer
// sleeps in FUTEX_WAIT. The cheapest kernel wake-up there is.
class futex_floor final : public variant {
public:
    void prepare(timeline& tl) override
    {
        tl_ = &tl;
        thread_ = std::thread([this] { consume(); });
    }
    void publish(const float* block, std::size_t) noexcept override
    {
        word_.store(stamp_of(block) + 1, std::memory_order_release);
        wake();
    }
    void stop() noexcept override
    {
        quit_.store(true, std::memory_order_release);
        word_.fetch_add(1u << 31, std::memory_order_release);
        wake();
    }
    void join() override { thread_.join(); }

private:
    void wake() noexcept
    {
        ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 1,
                  nullptr, nullptr, 0);
    }

    void consume()
    {
        consumer_probe probe(*tl_);
        std::uint32_t seen = 0;
        for (;;) {
            std::uint32_t w;
            while ((w = word_.load(std::memory_order_acquire)) == seen)
                ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE,
                          seen, nullptr, nullptr, 0);
            const std::int64_t t = now_ns();
            seen = w;
            if (quit_.load(std::memory_order_acquire)) break;
            if (probe.received(w - 1, t)) break;
        }
        probe.finish();
    }

    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    timeline* tl_ = nullptr;
    alignas(64) std::atomic<std::uint32_t> word_{0};
    std::atomic<bool> quit_{false};
    std::thread thread_;
};

// ---- 5c. floor: an Asio coroutine on an eventfd ------------------------------------
//
// No audio: the callback stores the block number and writes an eventfd; a
// coroutine on an io_context co_awaits async_read_some of it, the read that
// wakes it and drains it at once. The same wake-up path as coaudio's doorbell without the ring or
// the composed operation: what Asio and the coroutine cost by themselves.
class asio_floor final : public variant {
public:
    asio_floor()
    {
        efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (efd_ < 0) throw std::system_error(errno, std::generic_category(), "asio floor");
        bell_.assign(efd_);
    }
    void prepare(timeline& tl) override
    {
        tl_ = &tl;
        asio::co_spawn(io_, loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    void publish(const float* block, std::size_t) noexcept override
    {
        latest_.store(stamp_of(block), std::memory_order_release);
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
    }
    void stop() noexcept override
    {
        asio::post(io_, [this] { bell_.cancel(); });
    }
    void join() override { thread_.join(); }

private:
    asio::awaitable<void> loop()
    {
        consumer_probe probe(*tl_);
        for (;;) {
            std::uint64_t count;
            auto [ec, n] = co_await bell_.async_read_some(asio::buffer(&count, sizeof count),
                                                          coaudio::as_tuple(asio::use_awaitable));
            const std::int64_t t = now_ns();
            if (ec) break;
            if (probe.received(latest_.load(std::memory_order_acquire), t)) break;
        }
        probe.finish();
    }

    timeline* tl_ = nullptr;
    int efd_ = -1;
    asio::io_context io_;
    asio::posix::stream_descriptor bell_{io_}; // owns and closes efd_
    std::atomic<std::uint32_t> latest_{0};
    std::thread thread_;
};

// ---- drivers --------------------------------------------------------------------------

// A thread with a precise period: clock_nanosleep to absolute deadlines on
// CLOCK_MONOTONIC, timer slack 1 ns, SCHED_FIFO when allowed (as PortAudio's
// callback threads are on a real-time host). A late wake-up catches up, as a
// device clock would.
void drive_synthetic(variant& v, timeline& tl)
{
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    if (synthetic_rt_priority > 0) {
        sched_param sp{};
        sp.sched_priority = synthetic_rt_priority;
        synthetic_rt_granted.store(::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp) == 0);
    }
    std::vector<float> block(static_cast<std::size_t>(tl.block));
    for (std::size_t i = 0; i < block.size(); ++i) // non-zero audio-like data
        block[i] = 0.25f + 0.2f * static_cast<float>(std::sin(0.05 * static_cast<double>(i)));
    const std::int64_t period =
        static_cast<std::int64_t>(std::llround(tl.block * 1e9 / sample_rate));
    std::int64_t next = now_ns() + period;
    for (int i = 0; i < tl.total; ++i, next += period) {
        timespec ts{static_cast<time_t>(next / 1'000'000'000),
                    static_cast<long>(next % 1'000'000'000)};
        while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
        }
        audio_step(v, tl, block.data(), static_cast<std::uint32_t>(i));
    }
}

// Real PortAudio on JACK: the stream's callback runs the same audio_step on
// a copy of the captured block (the copy is outside the timed body).
struct pa_driver {
    variant* v;
    timeline* tl;
    std::vector<float> scratch;
    std::uint32_t next = 0;
    std::atomic<std::uint64_t> xruns{0};
    std::atomic<std::uint64_t> odd_blocks{0};

    static int callback(const void* input, void*, unsigned long frames,
                        const PaStreamCallbackTimeInfo*, PaStreamCallbackFlags flags,
                        void* user) noexcept
    {
        auto& d = *static_cast<pa_driver*>(user);
        if (d.next >= static_cast<std::uint32_t>(d.tl->total)) return paContinue;
        if (frames != d.scratch.size()) {
            d.odd_blocks.fetch_add(1, std::memory_order_relaxed);
            return paContinue;
        }
        if ((flags & paInputOverflow) && d.next >= static_cast<std::uint32_t>(d.tl->warmup))
            d.xruns.fetch_add(1, std::memory_order_relaxed);
        if (input != nullptr)
            std::memcpy(d.scratch.data(), input, frames * sizeof(float));
        else
            std::fill(d.scratch.begin(), d.scratch.end(), 0.0f);
        audio_step(*d.v, *d.tl, d.scratch.data(), d.next++);
        return paContinue;
    }
};

PaStreamParameters input_parameters(int device)
{
    PaStreamParameters sp{};
    sp.device = device;
    sp.channelCount = 1;
    sp.sampleFormat = paFloat32;
    const PaDeviceInfo* info = Pa_GetDeviceInfo(device);
    sp.suggestedLatency = info != nullptr ? info->defaultLowInputLatency : 0.0;
    return sp;
}

double block_seconds(int block)
{
    return block / sample_rate;
}

// Writes a finished timeline for --timelines: where a tail comes from is in
// which blocks were late, and by how much.
void write_timeline(const run_request& rq, const timeline& tl)
{
    static int runs = 0;
    const std::string path = timeline_dir + "/" + std::to_string(++runs) + "-" +
                             driver_name(rq.driver) + "-" + std::to_string(rq.block) + "-" +
                             variant_key(rq.kind) + ".csv";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) {
        std::fprintf(stderr, "coaudio_bench: cannot write %s: %s\n", path.c_str(),
                     std::strerror(errno));
        return;
    }
    std::fputs("block,entry_ns,pub_ns,recv_ns\n", f);
    for (int i = tl.warmup; i < tl.total; ++i) {
        const auto u = static_cast<std::size_t>(i);
        if (tl.pub[u] == 0) continue;
        std::fprintf(f, "%d,%lld,%lld,%lld\n", i, static_cast<long long>(tl.entry[u]),
                     static_cast<long long>(tl.pub[u]),
                     tl.recv[u] != 0 ? static_cast<long long>(tl.recv[u]) : -1LL);
    }
    std::fclose(f);
}

// Fills the per-second figures of `r` from a finished timeline.
void summarise(run_record& r, const timeline& tl, std::uint64_t dropped)
{
    const int last = tl.total - 1;
    for (int i = tl.warmup; i < tl.total; ++i) {
        const auto u = static_cast<std::size_t>(i);
        if (tl.recv[u] != 0 && tl.pub[u] != 0) {
            r.latency_us.push_back(static_cast<double>(tl.recv[u] - tl.pub[u]) / 1e3);
            r.entry_latency_us.push_back(static_cast<double>(tl.recv[u] - tl.entry[u]) / 1e3);
        } else
            ++r.blocks_lost;
        if (tl.pub[u] != 0) r.cost_us.push_back(static_cast<double>(tl.cost[u]) / 1e3);
    }
    r.frames_dropped = dropped;
    const int audio_blocks = last - tl.warmup;
    r.audio_seconds = audio_blocks * block_seconds(tl.block);
    const std::int64_t cpu0 = tl.cpu_start.load();
    if (audio_blocks > 0 && cpu0 != 0 && tl.cpu_end > cpu0) {
        r.cpu_ms_per_s = static_cast<double>(tl.cpu_end - cpu0) / 1e6 / r.audio_seconds;
        const int measured = tl.total - tl.warmup;
        const double measured_s = measured * block_seconds(tl.block);
        r.audio_allocs_per_s = static_cast<double>(tl.audio_ops.allocs) / measured_s;
        r.audio_locks_per_s = static_cast<double>(tl.audio_ops.locks) / measured_s;
    }
    if (tl.io_first >= 0 && last > tl.io_first) {
        r.consumer_blocks = last - tl.io_first;
        const double io_s = (last - tl.io_first) * block_seconds(tl.block);
        r.io_allocs_per_s = static_cast<double>(tl.io_ops.allocs) / io_s;
        r.io_locks_per_s = static_cast<double>(tl.io_ops.locks) / io_s;
        r.io_cpu_ms_per_s = static_cast<double>(tl.io_cpu) / 1e6 / io_s;
    }
}

std::chrono::steady_clock::time_point deadline_for(const run_request& rq)
{
    const double seconds = rq.blocks * block_seconds(rq.block) * 1.5 + 5.0;
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::duration<double>(seconds));
}

// Variants 1-3 and 5: a driver feeds blocks to the variant's callback body.
run_record run_driven(const run_request& rq)
{
    run_record r;
    r.request = rq;
    timeline tl(rq.block, rq.blocks, rq.warmup);
    std::unique_ptr<variant> v = make_variant(rq.kind);
    v->prepare(tl);
    const auto deadline = deadline_for(rq);

    if (rq.driver == driver_kind::synthetic) {
        std::thread driver([&] { drive_synthetic(*v, tl); });
        const bool done = tl.wait_done(deadline);
        driver.join();
        if (!done) {
            r.timed_out = true;
            v->stop();
        }
    } else {
        pa_driver d{v.get(), &tl, std::vector<float>(static_cast<std::size_t>(rq.block)),
                    0,       {0}, {0}};
        const PaStreamParameters sp = input_parameters(rq.device);
        PaStream* stream = nullptr;
        PaError e =
            Pa_OpenStream(&stream, &sp, nullptr, sample_rate, static_cast<unsigned long>(rq.block),
                          paNoFlag, &pa_driver::callback, &d);
        if (e == paNoError) e = Pa_StartStream(stream);
        bool done = false;
        if (e == paNoError)
            done = tl.wait_done(deadline);
        else
            r.note = std::string("PortAudio: ") + Pa_GetErrorText(e);
        if (stream != nullptr) {
            Pa_StopStream(stream);
            Pa_CloseStream(stream);
        }
        if (!done) {
            r.timed_out = e == paNoError;
            v->stop();
        }
        r.xruns = d.xruns.load();
        if (const auto odd = d.odd_blocks.load())
            r.note += "callbacks with another block size: " + std::to_string(odd);
    }
    v->join();
    summarise(r, tl, v->frames_dropped());
    if (!timeline_dir.empty()) write_timeline(rq, tl);
    return r;
}

// Variant 4: PortAudio's blocking read in a consumer thread. Neither the
// latency nor the callback cost can be observed from outside PortAudio.
// What a consumer thread reads at either end of its measured window, in an
// order that keeps the reading itself out of the window: allocations and locks
// innermost, process CPU outermost.
struct window_mark {
    std::int64_t cpu = 0, thread_cpu = 0;
    op_counts ops{};
    static window_mark open()
    {
        window_mark m;
        m.cpu = process_cpu_ns();
        m.thread_cpu = thread_cpu_ns();
        m.ops = thread_counts();
        return m;
    }
    static window_mark close()
    {
        window_mark m;
        m.ops = thread_counts();
        m.thread_cpu = thread_cpu_ns();
        m.cpu = process_cpu_ns();
        return m;
    }
};

// Fills the per-audio-second figures of `r` for the window [a, b] over the
// request's measured blocks; false when the window never closed.
bool rates_over_window(run_record& r, const run_request& rq, const window_mark& a,
                       const window_mark& b)
{
    const int blocks = rq.blocks - 1 - rq.warmup;
    r.audio_seconds = blocks * block_seconds(rq.block);
    if (b.cpu <= a.cpu || a.cpu == 0) return false;
    r.cpu_ms_per_s = static_cast<double>(b.cpu - a.cpu) / 1e6 / r.audio_seconds;
    r.io_cpu_ms_per_s = static_cast<double>(b.thread_cpu - a.thread_cpu) / 1e6 / r.audio_seconds;
    const op_counts d = b.ops - a.ops;
    r.io_allocs_per_s = static_cast<double>(d.allocs) / r.audio_seconds;
    r.io_locks_per_s = static_cast<double>(d.locks) / r.audio_seconds;
    return true;
}

run_record run_pa_blocking(const run_request& rq)
{
    run_record r;
    r.request = rq;
    const PaStreamParameters sp = input_parameters(rq.device);
    PaStream* stream = nullptr;
    PaError e = Pa_OpenStream(&stream, &sp, nullptr, sample_rate,
                              static_cast<unsigned long>(rq.block), paNoFlag, nullptr, nullptr);
    if (e == paNoError) e = Pa_StartStream(stream);
    if (e != paNoError) {
        r.note = std::string("PortAudio: ") + Pa_GetErrorText(e);
        if (stream != nullptr) Pa_CloseStream(stream);
        return r;
    }
    window_mark w0, w1;
    std::uint64_t overflows = 0;
    std::thread consumer([&] {
        std::vector<float> buf(static_cast<std::size_t>(rq.block) * pa_read_overallocation);
        for (int i = 0; i < rq.blocks; ++i) {
            const PaError re =
                Pa_ReadStream(stream, buf.data(), static_cast<unsigned long>(rq.block));
            if (re == paInputOverflowed && i > rq.warmup)
                ++overflows;
            else if (re != paNoError && re != paInputOverflowed)
                break;
            if (i == rq.warmup)
                w0 = window_mark::open();
            else if (i == rq.blocks - 1)
                w1 = window_mark::close();
        }
    });
    consumer.join();
    Pa_StopStream(stream);
    Pa_CloseStream(stream);
    r.xruns = overflows;
    if (!rates_over_window(r, rq, w0, w1)) r.note = "Pa_ReadStream failed before the last block";
    return r;
}

// coaudio as shipped: input_stream opened on the JACK device, PortAudio's
// own callback into stream_core, the watchdog armed. CPU, io-thread
// allocations and locks, losses; no timestamps (the callback is the library's).
run_record run_coaudio_native(const run_request& rq)
{
    run_record r;
    r.request = rq;
    asio::io_context io;
    std::optional<coaudio::input_stream> in;
    try {
        in.emplace(io,
                   coaudio::stream_config{.device = rq.device,
                                          .channels = 1,
                                          .sample_rate = sample_rate,
                                          .frames_per_block = static_cast<unsigned long>(rq.block),
                                          .latency = coaudio::latency_hint::low(),
                                          .ring_frames = ring_frames});
        in->start();
    } catch (const std::system_error& e) {
        r.note = e.what();
        return r;
    }
    window_mark w0, w1;
    coaudio::stream_counters c0{}, c1{};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::vector<float> block(static_cast<std::size_t>(rq.block));
            for (int i = 0; i < rq.blocks; ++i) {
                auto [ec, frames] = co_await in->async_read_frames(
                    std::span(block), coaudio::as_tuple(asio::use_awaitable));
                if (ec) break;
                if (i == rq.warmup) {
                    w0 = window_mark::open();
                    c0 = in->counters();
                } else if (i == rq.blocks - 1) {
                    w1 = window_mark::close();
                    c1 = in->counters();
                }
            }
        },
        asio::detached);
    std::thread consumer([&] { io.run(); });
    // After the last read io.run() may linger for up to one watchdog period
    // (200 ms) and the ring may overflow meanwhile: only the measured window counts.
    consumer.join();
    in->close();
    r.xruns = c1.host_overflows - c0.host_overflows;
    r.frames_dropped = c1.frames_dropped - c0.frames_dropped;
    if (!rates_over_window(r, rq, w0, w1)) r.note = "the stream ended before the last block";
    return r;
}

} // namespace

std::unique_ptr<variant> make_variant(variant_kind k)
{
    switch (k) {
    case variant_kind::coaudio: return std::make_unique<coaudio_variant>();
    case variant_kind::asio_post: return std::make_unique<asio_post_variant>(false);
    case variant_kind::asio_post_bare: return std::make_unique<asio_post_variant>(true);
    case variant_kind::condvar: return std::make_unique<condvar_variant>();
    case variant_kind::eventfd_floor: return std::make_unique<eventfd_floor>();
    case variant_kind::futex_floor: return std::make_unique<futex_floor>();
    case variant_kind::asio_floor: return std::make_unique<asio_floor>();
    case variant_kind::coaudio_native:
    case variant_kind::pa_blocking: break;
    }
    throw std::logic_error("variant has no callback body");
}

run_record run(const run_request& rq)
{
    switch (rq.kind) {
    case variant_kind::pa_blocking: return run_pa_blocking(rq);
    case variant_kind::coaudio_native: return run_coaudio_native(rq);
    default: return run_driven(rq);
    }
}

} // namespace bench
