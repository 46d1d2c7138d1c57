// Stream control on real PortAudio (JACK dummy server): cancellation, close,
// destruction with operations pending, every completion token, bad input.
#include <coaudio/coaudio.hpp>

#include "support/aborted.hpp"
#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/run.hpp"

#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asio::use_awaitable;

namespace {

constexpr double rate = 48000;

coaudio::stream_config config(int channels = 1)
{
    return {.device = test::jack_device_index(),
            .channels = channels,
            .sample_rate = rate,
            .frames_per_block = 256};
}

// A read also ends early, successfully, where the server reported lost input
// (an xrun: a non-realtime JACK server on a busy machine, or under valgrind,
// has them), and the next read reports the gap. Such a read says nothing about
// cancellation, so the tests below check that this is what happened and try
// again; `attempts` bounds the retries.
constexpr int attempts = 10;

bool ended_at_gap(coaudio::input_stream& in, asio::io_context& io)
{
    std::vector<float> one(1);
    bool gap = false;
    in.async_read_frames(std::span(one), [&](std::error_code ec, std::size_t) {
        gap = !ec && in.last_read().overflows > 0;
    });
    io.restart();
    io.run_for(1s);
    return gap;
}

} // namespace

TEST_CASE("a read raced against a timer is cancelled and the next read works")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    bool timer_won = false;
    for (int i = 0; i < attempts && !timer_won; ++i) {
        test::run(io, [&]() -> asio::awaitable<void> {
            std::vector<float> second(
                static_cast<std::size_t>(rate)); // one second: cannot finish in 50 ms
            asio::steady_timer timer(io, 50ms);
            auto result = co_await (in.async_read_frames(std::span(second), use_awaitable) ||
                                    timer.async_wait(use_awaitable));
            timer_won = result.index() == 1;
            if (!timer_won) co_return;
            // The read completed (with operation_aborted, swallowed by ||); the
            // stream is free for another read, which works.
            std::vector<float> buf(256);
            const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
            CHECK(n == buf.size());
        }());
        if (!timer_won) REQUIRE(ended_at_gap(in, io));
    }
    CHECK(timer_won);
}

TEST_CASE("terminal and partial cancellation through a cancellation slot")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial}) {
        for (int i = 0; i < attempts; ++i) {
            std::vector<float> second(static_cast<std::size_t>(rate));
            asio::cancellation_signal signal;
            std::optional<std::pair<std::error_code, std::size_t>> result;
            in.async_read_frames(
                std::span(second),
                asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::size_t n) {
                    result.emplace(ec, n);
                }));
            asio::steady_timer timer(io, 30ms);
            timer.async_wait([&](std::error_code) { signal.emit(type); });
            io.restart();
            io.run_for(2s);
            REQUIRE(result);
            if (!result->first && i + 1 < attempts) {
                REQUIRE(ended_at_gap(in, io));
                continue;
            }
            CHECK(result->first == test::operation_aborted());
            CHECK(result->second < second.size()); // frames copied before the cancel are counted
            break;
        }
    }
}

TEST_CASE("total cancellation alone is not taken: a read may already hold frames")
{
    // The operations name terminal and partial cancellation. Total means
    // "undone, no side effects", which a read that has copied frames out of
    // the ring cannot promise, so the read goes on and completes whole.
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    for (int i = 0; i < attempts; ++i) {
        std::vector<float> tenth(static_cast<std::size_t>(rate / 10));
        asio::cancellation_signal signal;
        std::optional<std::pair<std::error_code, std::size_t>> result;
        in.async_read_frames(
            std::span(tenth),
            asio::bind_cancellation_slot(
                signal.slot(), [&](std::error_code ec, std::size_t n) { result.emplace(ec, n); }));
        asio::steady_timer timer(io, 30ms);
        timer.async_wait([&](std::error_code) { signal.emit(asio::cancellation_type::total); });
        io.restart();
        io.run_for(2s);
        REQUIRE(result);
        if (!result->first && result->second < tenth.size() && i + 1 < attempts) {
            REQUIRE(ended_at_gap(in, io));
            continue;
        }
        CHECK(result->first == std::error_code());
        CHECK(result->second == tenth.size());
        break;
    }
}

TEST_CASE("cancel() completes a pending read with operation_aborted")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::vector<float> second(static_cast<std::size_t>(rate));
    std::optional<std::error_code> result;
    for (int i = 0; i < attempts; ++i) {
        result.reset();
        in.async_read_frames(std::span(second),
                             [&](std::error_code ec, std::size_t) { result = ec; });
        asio::steady_timer timer(io, 30ms);
        timer.async_wait([&](std::error_code) { in.cancel(); });
        io.restart();
        io.run_for(2s);
        REQUIRE(result);
        if (*result || i + 1 == attempts) break;
        REQUIRE(ended_at_gap(in, io));
    }
    CHECK(*result == test::operation_aborted());
}

TEST_CASE("close() with a read pending completes it with an error")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::vector<float> second(static_cast<std::size_t>(rate));
    std::optional<std::error_code> result;
    for (int i = 0; i < attempts; ++i) {
        result.reset();
        in.async_read_frames(std::span(second),
                             [&](std::error_code ec, std::size_t) { result = ec; });
        asio::steady_timer timer(io, 30ms);
        timer.async_wait([&](std::error_code) { in.close(); });
        io.restart();
        io.run_for(2s);
        REQUIRE(result);
        if (*result || i + 1 == attempts) break;
        // Ended at a gap before the close: open a fresh stream and try again.
        in.open(config());
        in.start();
    }
    CHECK(*result == test::operation_aborted());
    CHECK_FALSE(in.is_open());
    // A read on the closed stream fails at once.
    std::optional<std::error_code> again;
    in.async_read_frames(std::span(second), [&](std::error_code ec, std::size_t) { again = ec; });
    io.restart();
    io.run_for(1s);
    REQUIRE(again);
    CHECK(*again == coaudio::errc::not_open);
}

TEST_CASE("destroying a stream with operations pending completes them and frees everything")
{
    coaudio::library lib;
    asio::io_context io;
    std::optional<std::error_code> read_result, write_result;
    for (int i = 0; i < attempts; ++i) {
        auto in = std::make_unique<coaudio::input_stream>(io, config());
        auto out = std::make_unique<coaudio::output_stream>(io, config());
        in->start();
        // Output not started: a write bigger than the ring parks.
        std::vector<float> big(out->ring_capacity() * 2);
        std::vector<float> second(static_cast<std::size_t>(rate));
        read_result.reset();
        write_result.reset();
        in->async_read_frames(std::span(second),
                              [&](std::error_code ec, std::size_t) { read_result = ec; });
        out->async_write_frames(std::span(big),
                                [&](std::error_code ec, std::size_t) { write_result = ec; });
        asio::steady_timer timer(io, 30ms);
        timer.async_wait([&](std::error_code) {
            in.reset();
            out.reset();
        });
        io.restart();
        io.run_for(2s);
        REQUIRE(read_result);
        REQUIRE(write_result);
        if (*read_result) break; // else the read ended at a gap before the destruction: again
    }
    CHECK(*read_result == test::operation_aborted());
    CHECK(*write_result == test::operation_aborted());
}

TEST_CASE("every completion token kind works")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::vector<float> buf(256);

    SECTION("callback")
    {
        std::size_t got = 0;
        in.async_read_frames(std::span(buf), [&](std::error_code ec, std::size_t n) {
            CHECK_FALSE(ec);
            got = n;
        });
        io.run_for(2s);
        CHECK(got == buf.size());
    }
    SECTION("use_future")
    {
        std::future<std::size_t> f = in.async_read_frames(std::span(buf), asio::use_future);
        std::thread runner([&] { io.run_for(2s); });
        CHECK(f.get() == buf.size());
        runner.join();
    }
    SECTION("deferred, the default")
    {
        // Hold still a few blocks of captured frames, so that any read shows.
        for (int i = 0; i < 200 && in.frames_available() < 2 * buf.size(); ++i)
            std::this_thread::sleep_for(10ms);
        in.stop();
        const std::size_t held = in.frames_available();
        REQUIRE(held >= 2 * buf.size());
        auto op = in.async_read_frames(std::span(buf)); // nothing starts yet
        io.poll();
        CHECK(in.frames_available() == held); // not consumed: the deferred op has not run
        io.restart();
        std::size_t got = 0;
        std::move(op)([&](std::error_code ec, std::size_t n) {
            CHECK_FALSE(ec);
            got = n;
        });
        io.run_for(2s);
        CHECK(got == buf.size());
        CHECK(in.frames_available() == held - buf.size());
    }
    SECTION("as_tuple and use_awaitable")
    {
        test::run(io, [&]() -> asio::awaitable<void> {
            auto [ec, n] =
                co_await in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
            CHECK_FALSE(ec);
            CHECK(n == buf.size());
            // A stream whose executor names use_awaitable as its default needs no token.
            auto awaitable_in = asio::use_awaitable_t<>::as_default_on(std::move(in));
            std::size_t bytes = co_await awaitable_in.async_read_some(asio::buffer(buf));
            CHECK(bytes > 0);
            CHECK(bytes % sizeof(float) == 0);
#ifdef COAUDIO_ASIO_CAN_AWAIT_DEFERRED
            // Where Asio can await deferred operations, the default token is awaitable as it is.
            bytes = co_await awaitable_in.async_read_some(asio::buffer(buf), coaudio::deferred);
            CHECK(bytes > 0);
#endif
        }());
    }
    SECTION("detached")
    {
        in.async_read_frames(std::span(buf), asio::detached);
        io.run_for(200ms);
        SUCCEED();
    }
}

TEST_CASE("an operation never completes inside its initiating function")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::this_thread::sleep_for(50ms); // frames are waiting: the read could finish at once
    std::vector<float> buf(16);
    bool done = false;
    in.async_read_frames(std::span(buf), [&](std::error_code, std::size_t) { done = true; });
    CHECK_FALSE(done);
    io.run_for(1s);
    CHECK(done);
    // Errors too are delivered later.
    bool failed = false;
    std::vector<std::int16_t> wrong(16);
    in.async_read_frames(std::span(wrong),
                         [&](std::error_code ec, std::size_t) { failed = bool(ec); });
    CHECK_FALSE(failed);
    io.restart();
    io.run_for(1s);
    CHECK(failed);
}

TEST_CASE("the handler's associated executor is honoured")
{
    coaudio::library lib;
    asio::io_context io, other;
    coaudio::input_stream in(io, config());
    in.start();
    std::vector<float> buf(64);
    std::thread::id ran_on;
    bool done = false;
    in.async_read_frames(std::span(buf),
                         asio::bind_executor(other, [&](std::error_code, std::size_t) {
                             done = true;
                             ran_on = std::this_thread::get_id();
                         }));
    io.run_for(500ms);
    CHECK_FALSE(done); // the completion went to `other`, which nobody ran yet
    other.run_for(1s);
    CHECK(done);
}

namespace {
// Counts what Asio allocates through the handler's associated allocator.
template <class T>
struct counting_allocator {
    using value_type = T;
    std::size_t* count;
    explicit counting_allocator(std::size_t* c) : count(c) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) : count(o.count)
    {
    }
    T* allocate(std::size_t n)
    {
        ++*count;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const counting_allocator<U>& o) const
    {
        return count == o.count;
    }
};
} // namespace

TEST_CASE("the handler's associated allocator is used for the operation's storage")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::size_t allocations = 0;
    std::vector<float> buf(2048); // more than one block: the read parks at least once
    bool done = false;
    in.async_read_frames(
        std::span(buf), asio::bind_allocator(counting_allocator<void>(&allocations),
                                             [&](std::error_code ec, std::size_t) { done = !ec; }));
    io.run_for(2s);
    CHECK(done);
    CHECK(allocations > 0);
}

TEST_CASE("a second read while one is outstanding is refused")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, config());
    in.start();
    std::vector<float> a(static_cast<std::size_t>(rate / 10)), b(16);
    std::optional<std::error_code> first, second;
    in.async_read_frames(std::span(a), [&](std::error_code ec, std::size_t) { first = ec; });
    in.async_read_frames(std::span(b), [&](std::error_code ec, std::size_t) { second = ec; });
    io.run_for(2s);
    REQUIRE(first);
    REQUIRE(second);
    CHECK_FALSE(*first);
    CHECK(*second == coaudio::errc::operation_in_progress);
}

TEST_CASE("bad input gets a clear error and no crash")
{
    coaudio::library lib;
    asio::io_context io;

    SECTION("a device that does not exist")
    {
        auto cfg = config();
        cfg.device = 9999;
        std::error_code ec;
        coaudio::input_stream in(io);
        in.open(cfg, ec);
        CHECK(ec == coaudio::errc::device_not_found);
        CHECK_FALSE(in.is_open());
        CHECK_THROWS_AS(coaudio::input_stream(io, cfg), std::system_error);
        std::error_code dev_ec;
        coaudio::device(9999, dev_ec);
        CHECK(dev_ec == coaudio::errc::device_not_found);
    }
    SECTION("a sample rate the device refuses")
    {
        for (double bad : {44100.0, 12345.0}) {
            auto cfg = config();
            cfg.sample_rate = bad;
            std::error_code ec;
            coaudio::output_stream out(io);
            out.open(cfg, ec);
            INFO(bad << ": " << ec.message());
            CHECK(ec == coaudio::errc::invalid_sample_rate);
        }
        auto cfg = config();
        cfg.sample_rate = -48000;
        std::error_code ec;
        coaudio::input_stream(io).open(cfg, ec);
        CHECK(ec == coaudio::errc::invalid_sample_rate);
    }
    SECTION("zero, negative or too many channels")
    {
        for (int channels : {0, -1, 1000}) {
            std::error_code ec;
            coaudio::input_stream in(io);
            in.open(config(channels), ec);
            INFO(channels);
            CHECK(ec == coaudio::errc::invalid_channels);
            CHECK(ec == std::errc::invalid_argument);
        }
    }
    SECTION("a buffer that is not a whole number of frames")
    {
        coaudio::input_stream in(io, config(2));
        in.start();
        std::vector<float> three(3);
        std::optional<std::error_code> typed, bytes;
        in.async_read_frames(std::span(three),
                             [&](std::error_code ec, std::size_t) { typed = ec; });
        io.run_for(1s);
        char one_byte[1];
        in.async_read_some(asio::buffer(one_byte),
                           [&](std::error_code ec, std::size_t) { bytes = ec; });
        io.restart();
        io.run_for(1s);
        REQUIRE(typed);
        REQUIRE(bytes);
        CHECK(*typed == coaudio::errc::not_whole_frames);
        CHECK(*bytes == coaudio::errc::not_whole_frames);
        coaudio::output_stream out(io, config(2));
        std::optional<std::error_code> wrote;
        out.async_write_frames(std::span(three),
                               [&](std::error_code ec, std::size_t) { wrote = ec; });
        io.restart();
        io.run_for(1s);
        REQUIRE(wrote);
        CHECK(*wrote == coaudio::errc::not_whole_frames);
    }
    SECTION("a sample type that is not the stream's format")
    {
        coaudio::input_stream in(io, config());
        in.start();
        std::vector<std::int16_t> wrong(256);
        std::optional<std::error_code> result;
        in.async_read_frames(std::span(wrong),
                             [&](std::error_code ec, std::size_t) { result = ec; });
        io.run_for(1s);
        REQUIRE(result);
        CHECK(*result == coaudio::errc::format_mismatch);
    }
    SECTION("operations on a never-opened or closed stream")
    {
        coaudio::input_stream never(io);
        std::vector<float> buf(16);
        std::optional<std::error_code> read;
        never.async_read_frames(std::span(buf),
                                [&](std::error_code ec, std::size_t) { read = ec; });
        io.run_for(1s);
        REQUIRE(read);
        CHECK(*read == coaudio::errc::not_open);
        std::error_code ec;
        never.start(ec);
        CHECK(ec == coaudio::errc::not_open);
        CHECK_THROWS_AS(never.stop(), std::system_error);

        coaudio::output_stream closed(io, config());
        closed.close();
        closed.start(ec);
        CHECK(ec == coaudio::errc::not_open);
        std::optional<std::error_code> wrote;
        closed.async_write_frames(std::span(buf),
                                  [&](std::error_code e, std::size_t) { wrote = e; });
        io.restart();
        io.run_for(1s);
        REQUIRE(wrote);
        CHECK(*wrote == coaudio::errc::not_open);
    }
    SECTION("a read on a stopped stream with nothing buffered")
    {
        coaudio::input_stream in(io, config());
        std::vector<float> buf(16);
        std::optional<std::error_code> read;
        in.async_read_frames(std::span(buf), [&](std::error_code ec, std::size_t) { read = ec; });
        io.run_for(1s);
        REQUIRE(read);
        CHECK(*read == coaudio::errc::not_running);
    }
}

TEST_CASE("streams are movable, rebindable and constructible from a context or an executor")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream a(io.get_executor(), config());
    coaudio::input_stream b(std::move(a));
    CHECK_FALSE(a.is_open());
    CHECK(b.is_open());
    coaudio::basic_input_stream<asio::io_context::executor_type> typed(io, config());
    coaudio::input_stream erased(std::move(typed)); // converting move
    CHECK(erased.is_open());
    using rebound = coaudio::input_stream::rebind_executor<asio::io_context::executor_type>::other;
    STATIC_REQUIRE(
        std::is_same_v<rebound, coaudio::basic_input_stream<asio::io_context::executor_type>>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<coaudio::input_stream>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<coaudio::output_stream>);
    CHECK(erased.sample_rate() == rate);
    CHECK(erased.channels() == 1);
    CHECK(erased.latency() >= 0.0);
}
