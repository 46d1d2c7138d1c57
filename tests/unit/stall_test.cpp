// A stream whose callbacks stop, on the virtual device: with a stall timeout
// the waiting operations fail with errc::stalled and the stream recovers when
// callbacks resume; without one, a frozen device only delays them.
#include <coaudio/virtual_device.hpp>

#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <tuple>
#include <vector>

using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block = 256;

// What a read that had to wait came back with, after how long, and when.
struct waited {
    std::error_code ec;
    std::size_t frames = 0;
    std::chrono::steady_clock::duration elapsed{};
    std::chrono::steady_clock::time_point done;
};

template <class Op>
asio::awaitable<waited> timed(Op op)
{
    const auto t0 = std::chrono::steady_clock::now();
    waited w;
    std::tie(w.ec, w.frames) = co_await op();
    w.done = std::chrono::steady_clock::now();
    w.elapsed = w.done - t0;
    co_return w;
}

} // namespace

TEST_CASE("with a stall timeout, waiting operations fail with stalled and the stream recovers")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::duplex_stream s(io);
    dev.open(s, {.input = {.stall_timeout = 100ms}, .output = {.stall_timeout = 100ms}});
    s.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        std::vector<float> in(block), out(4 * block);
        // Fill the output ring so that the write below has to wait too.
        while (s.frames_writable() > 0)
            co_await s.async_write_frames(
                std::span(out).first(std::min(out.size(), s.frames_writable())), use_awaitable);
        dev.step(1);
        // The timeout counts from the last callback, not from when an
        // operation began: the silence starts here.
        const auto last_callback = std::chrono::steady_clock::now();
        std::size_t n = co_await s.async_read_frames(std::span(in), use_awaitable);
        CHECK(n == block);

        // No callback now: the read and the write both wait, then stall.
        auto read = timed(
            [&] { return s.async_read_frames(std::span(in), coaudio::as_tuple(use_awaitable)); });
        auto write = timed(
            [&] { return s.async_write_frames(std::span(out), coaudio::as_tuple(use_awaitable)); });
        using namespace awaitable_ops;
        const auto [r, w] = co_await (std::move(read) && std::move(write));
        CHECK(r.ec == coaudio::errc::stalled);
        CHECK(w.ec == coaudio::errc::stalled);
        for (const auto& x : {r, w}) {
            CHECK(x.done - last_callback >= 100ms);
            CHECK(x.elapsed < 1s);
        }
        CHECK(s.is_open());

        // Callbacks resume: so does the stream.
        dev.step(2);
        n = co_await s.async_read_frames(std::span(in), use_awaitable);
        CHECK(n == block);
        n = co_await s.async_write_frames(std::span(out).first(block), use_awaitable);
        CHECK(n == block);
    }());
}

TEST_CASE("without a stall timeout, a frozen device only delays a read")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in);
    in.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        std::vector<float> buf(block);
        asio::steady_timer thaw(co_await asio::this_coro::executor, 1500ms);
        thaw.async_wait([&](std::error_code) { dev.step(1); });
        const auto t0 = std::chrono::steady_clock::now();
        const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
        CHECK(n == block);
        CHECK(std::chrono::steady_clock::now() - t0 >= 1500ms);
    }());
}

TEST_CASE("stopping a playing output plays what is queued and returns once it has played")
{
    // stop() waits on the output's doorbell, which the stream's end rings:
    // it returns when the last block has played, not at a bound or a poll.
    constexpr std::size_t queued = 16 * block; // about 85 ms at 48 kHz
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::output_stream s(io);
    dev.open(s);
    std::vector<float> out(queued, 0.25f);
    s.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await s.async_write_frames(std::span(out), use_awaitable);
    }());
    dev.start_clock();
    const auto t0 = std::chrono::steady_clock::now();
    s.stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    dev.stop_clock();
    CHECK(s.counters().frames == queued);
    CHECK(took >= 70ms);
    // The ring's duration, the latency and a second bound the wait when the
    // end is never announced; the end itself comes about 85 ms in.
    CHECK(took < 300ms);
}

TEST_CASE("stopping a stalled output does not wait for queued frames that cannot play")
{
    // Without the stall timeout, stop waits for the queue to drain for up to
    // the ring's duration, the host latency and a second.
    constexpr auto stall = 300ms;
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::output_stream s(io);
    dev.open(s, {.stall_timeout = stall});
    s.start();
    std::vector<float> out(4 * block);

    SECTION("after the stall was reported to a waiting write: at once")
    {
        test::run(io, [&]() -> asio::awaitable<void> {
            while (s.frames_writable() > 0)
                co_await s.async_write_frames(
                    std::span(out).first(std::min(out.size(), s.frames_writable())), use_awaitable);
            dev.step(1);
            const auto [ec, n] =
                co_await s.async_write_frames(std::span(out), coaudio::as_tuple(use_awaitable));
            CHECK(ec == coaudio::errc::stalled);
        }());
        const auto t0 = std::chrono::steady_clock::now();
        s.stop();
        CHECK(std::chrono::steady_clock::now() - t0 < stall / 2);
    }
    SECTION("with nothing waiting: after the stall timeout")
    {
        test::run(io, [&]() -> asio::awaitable<void> {
            co_await s.async_write_frames(std::span(out), use_awaitable);
        }());
        dev.step(1);
        const auto t0 = std::chrono::steady_clock::now();
        s.stop();
        const auto took = std::chrono::steady_clock::now() - t0;
        CHECK(took >= stall);
        CHECK(took < stall + 500ms);
    }
    CHECK(s.is_open()); // stopped, not closed: it may start again
}
