// A server that freezes (SIGSTOP of the test's own jackd): callbacks stop and
// no error says so. With a stall timeout a waiting read fails with
// errc::stalled and the stream streams again once the server thaws; without
// one the read simply waits out the freeze.
#include <coaudio/input_stream.hpp>
#include <coaudio/oneshot.hpp>

#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/run.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include <signal.h>
#include <sys/types.h>

using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

constexpr double rate = 48000;
constexpr std::size_t block = 256;

pid_t jackd_pid()
{
    const char* file = std::getenv("COAUDIO_JACKD_PID_FILE");
    if (file == nullptr)
        throw std::runtime_error("COAUDIO_JACKD_PID_FILE is not set (run through ctest)");
    std::ifstream in(file);
    pid_t pid = 0;
    if (!(in >> pid) || pid <= 0) throw std::runtime_error(std::string("no pid in ") + file);
    return pid;
}

// Stops the test's server for as long as it lives, and always lets it go on.
class frozen_server {
public:
    frozen_server() : pid_(jackd_pid()) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
    frozen_server(const frozen_server&) = delete;
    frozen_server& operator=(const frozen_server&) = delete;
    ~frozen_server() { thaw(); }
    // A thread that thaws the server after `d`, as a debugger or the OS
    // would; joined before this object goes.
    std::thread thaw_after(std::chrono::seconds d)
    {
        return std::thread([this, d] {
            std::this_thread::sleep_for(d);
            thaw();
        });
    }
    void thaw()
    {
        if (pid_ != 0) ::kill(pid_, SIGCONT);
        pid_ = 0;
    }

private:
    pid_t pid_;
};

asio::awaitable<std::size_t> read_block(coaudio::input_stream& in)
{
    std::vector<float> buf(block);
    co_return co_await in.async_read_frames(std::span(buf), use_awaitable);
}

// A started mono input stream on the test's JACK server.
coaudio::input_stream started_input(asio::io_context& io, std::chrono::milliseconds stall_timeout)
{
    coaudio::input_stream in(io, {.device = test::jack_device_index(),
                                  .channels = 1,
                                  .sample_rate = rate,
                                  .frames_per_block = block,
                                  .stall_timeout = stall_timeout});
    in.start();
    return in;
}

// Reads what the ring holds, so that the next read has to wait.
asio::awaitable<void> take_what_arrived(coaudio::input_stream& in)
{
    while (const std::size_t n = in.frames_available()) {
        std::vector<float> buf(n);
        co_await in.async_read_frames(std::span(buf), use_awaitable);
    }
}

} // namespace

TEST_CASE("a frozen server fails a waiting read with stalled, and the stream streams again after "
          "it thaws",
          "[realtime]")
{
    asio::io_context io;
    auto in = started_input(io, 500ms);
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            const std::size_t first = co_await read_block(in);
            CHECK(first == block);
            frozen_server freeze;
            co_await take_what_arrived(in);
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<float> buf(block);
            auto [ec, n] =
                co_await in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
            const auto waited = std::chrono::steady_clock::now() - t0;
            std::printf("stall timeout 500 ms: the waiting read failed with '%s' after %lld ms\n",
                        ec.message().c_str(),
                        static_cast<long long>(
                            std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
            CHECK(ec == coaudio::errc::stalled);
            CHECK(waited >= 500ms);
            CHECK(waited < 1500ms);
            CHECK(in.is_open());
            freeze.thaw();
            // The server goes on, and so does the stream.
            for (int i = 0; i < 20; ++i) {
                const std::size_t got = co_await read_block(in);
                CHECK(got > 0);
            }
        }(),
        30s);
}

TEST_CASE(
    "without a stall timeout, a read waits out a 5 s freeze of the server and streaming goes on",
    "[realtime]")
{
    asio::io_context io;
    auto in = started_input(io, 0ms);
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            const std::size_t first = co_await read_block(in);
            CHECK(first == block);
            auto freeze = std::make_unique<frozen_server>();
            co_await take_what_arrived(in);
            // Thaw from another thread after 5 s, as a debugger or the OS would.
            std::thread thaw = freeze->thaw_after(5s);
            const auto t0 = std::chrono::steady_clock::now();
            const std::size_t n = co_await read_block(in);
            const auto waited = std::chrono::steady_clock::now() - t0;
            thaw.join();
            CHECK(n > 0);
            CHECK(waited >= 4s);
            for (int i = 0; i < 20; ++i) {
                const std::size_t got = co_await read_block(in);
                CHECK(got > 0);
            }
        }(),
        60s);
}

namespace {

using clock_type = std::chrono::steady_clock;

long long ms_since(clock_type::time_point t0)
{
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
}

// Waits (off the io thread) until the control thread has made every call
// queued on it, at most `limit`.
bool control_calls_done(std::chrono::seconds limit)
{
    const auto deadline = clock_type::now() + limit;
    while (coaudio::detail::control_thread::backlog() != 0) {
        if (clock_type::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

} // namespace

// PortAudio's JACK host waits for its server inside Pa_OpenStream,
// Pa_AbortStream and Pa_CloseStream; frozen, the server never answers. The
// server is thawed by a thread of the test after 15 s whatever happens, so
// that a call that does hang shows up as a slow one instead of a test that
// never ends.
TEST_CASE("a frozen server hangs neither stop, close, the destructor nor open, and PortAudio "
          "recovers after it thaws",
          "[realtime]")
{
    asio::io_context io;
    std::unique_ptr<frozen_server> freeze;
    auto stalled_in = std::make_unique<coaudio::input_stream>(started_input(io, 500ms));
    auto quiet_in = std::make_unique<coaudio::input_stream>(started_input(io, 0ms));
    long long stop_ms = -1, close_ms = -1, destroy_ms = -1, open_ms = -1;
    std::error_code stop_ec, open_ec;
    coaudio::diagnostics open_diag;
    std::thread thaw;
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            const std::size_t first = co_await read_block(*stalled_in);
            CHECK(first == block);
            const std::size_t quiet_first = co_await read_block(*quiet_in);
            CHECK(quiet_first == block);
            freeze = std::make_unique<frozen_server>();
            thaw = freeze->thaw_after(15s);
            co_await take_what_arrived(*stalled_in);
            std::vector<float> buf(block);
            auto [ec, n] = co_await stalled_in->async_read_frames(std::span(buf),
                                                                  coaudio::as_tuple(use_awaitable));
            CHECK(ec == coaudio::errc::stalled);
            // On the io thread, as a coroutine would: each call is bounded.
            auto t0 = clock_type::now();
            stalled_in->stop(stop_ec);
            stop_ms = ms_since(t0);
            t0 = clock_type::now();
            stalled_in->close();
            close_ms = ms_since(t0);
            // No stall reported on this one (no timeout, nothing waiting):
            // its destructor waits for PortAudio the default 2 s at most.
            t0 = clock_type::now();
            quiet_in.reset();
            destroy_ms = ms_since(t0);
            // Opening waits for the server too: 10 s at most.
            t0 = clock_type::now();
            coaudio::input_stream late(io);
            late.open({.device = test::jack_device_index(), .channels = 1, .sample_rate = rate},
                      open_ec, open_diag);
            open_ms = ms_since(t0);
            co_return;
        }(),
        40s);
    thaw.join();
    std::printf(
        "frozen server: stop of the stalled stream returned '%s' after %lld ms, close after %lld "
        "ms; the destructor of a stream with no stall timeout after %lld ms\n",
        stop_ec.message().c_str(), stop_ms, close_ms, destroy_ms);
    std::printf("frozen server: open returned '%s' after %lld ms (%s)\n", open_ec.message().c_str(),
                open_ms, open_diag.message().c_str());
    CHECK(stop_ec == coaudio::errc::host_not_responding);
    CHECK(stop_ms >= 450);
    CHECK(stop_ms < 1500); // 500 ms and the stream's latency
    CHECK(close_ms < 100); // a stream found stalled does not wait at all
    CHECK(destroy_ms >= 1900);
    CHECK(destroy_ms < 3000); // 2 s and the stream's latency
    CHECK(open_ec == coaudio::errc::host_not_responding);
    CHECK(open_ec == std::errc::timed_out); // the portable condition
    CHECK(open_ms >= 9900);
    CHECK(open_ms < 11000);
    // The calls left to the control thread finish once the server runs, and
    // PortAudio streams again in this process.
    const auto t0 = clock_type::now();
    CHECK(control_calls_done(20s));
    std::printf("after the thaw, the control thread finished its calls in %lld ms\n", ms_since(t0));
    asio::io_context io2;
    auto again = started_input(io2, 500ms);
    test::run(
        io2,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 20; ++i) {
                const std::size_t got = co_await read_block(again);
                CHECK(got > 0);
            }
        }(),
        30s);
}

// A one-shot operation opens its stream with the configuration it is given,
// so a stall timeout keeps a one-shot recording from waiting out a freeze.
TEST_CASE("a one-shot recording with a stall timeout fails with stalled on a frozen server and "
          "returns what it recorded",
          "[realtime]")
{
    using namespace awaitable_ops;
    REQUIRE(control_calls_done(20s));
    asio::io_context io;
    const coaudio::stream_config cfg{
        .device = test::jack_device_index(), .frames_per_block = block, .stall_timeout = 500ms};
    std::unique_ptr<frozen_server> freeze;
    std::error_code ec;
    std::vector<float> rec;
    long long frozen_ms = -1, done_ms = -1;
    const auto t0 = clock_type::now();
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            auto freeze_soon = [&]() -> asio::awaitable<void> {
                asio::steady_timer t(io, 300ms);
                co_await t.async_wait(use_awaitable);
                freeze = std::make_unique<frozen_server>();
                frozen_ms = ms_since(t0);
            };
            auto record = [&]() -> asio::awaitable<void> {
                std::tie(ec, rec) =
                    co_await coaudio::async_record(io, static_cast<std::size_t>(5 * rate), rate,
                                                   cfg, coaudio::as_tuple(use_awaitable));
                done_ms = ms_since(t0);
            };
            co_await (freeze_soon() && record());
        }(),
        20s);
    if (freeze) freeze->thaw();
    std::printf("one-shot recording of 5 s: the server froze at %lld ms; the recording completed "
                "with '%s' at %lld ms with %zu frames\n",
                frozen_ms, ec.message().c_str(), done_ms, rec.size());
    CHECK(ec == coaudio::errc::stalled);
    // The stall timeout (less a block already late), at most a quarter of it
    // more to notice, then the stop, which waits for PortAudio as long again.
    CHECK(done_ms - frozen_ms >= 450);
    CHECK(done_ms - frozen_ms < 2000);
    CHECK(rec.size() > 0); // the frames from before the freeze
    CHECK(rec.size() <= static_cast<std::size_t>(rate * double(frozen_ms) / 1000.0) + block);
    CHECK(control_calls_done(20s)); // the stream's close, left to the control thread
}

// PortAudio's first initialisation opens a JACK client, which waits for a
// frozen server. Nothing holds PortAudio here: the cases before this one
// have handed every reference back.
TEST_CASE("a frozen server does not hang PortAudio's initialisation", "[realtime]")
{
    REQUIRE(control_calls_done(20s));
    auto freeze = std::make_unique<frozen_server>();
    std::thread thaw = freeze->thaw_after(13s);
    const auto t0 = clock_type::now();
    std::error_code ec;
    auto lib = std::make_unique<coaudio::library>(ec);
    const long long init_ms = ms_since(t0);
    thaw.join();
    std::printf("frozen server: the first coaudio::library failed with '%s' after %lld ms\n",
                ec.message().c_str(), init_ms);
    CHECK(ec == coaudio::errc::host_not_responding);
    CHECK(!lib->initialized());
    CHECK(init_ms >= 9900);
    CHECK(init_ms < 11000);
    // The late initialisation is handed back once it completes; then
    // PortAudio starts again and sees the server's devices.
    CHECK(control_calls_done(20s));
    coaudio::library again;
    CHECK(again.initialized());
    CHECK(test::jack_device_index() >= 0);
}
