// Faults, load and lifetimes, on the virtual device: stepped faster than real
// time, so long stalls and exact counts are cheap and deterministic.
#include <coaudio/virtual_device.hpp>

#include "support/aborted.hpp"
#include "support/catch.hpp"
#include "support/run.hpp"

#include <coaudio/level.hpp>

#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <cmath>
#include <fstream>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

using asio::use_awaitable;

namespace {

// ASan's quarantine keeps freed memory resident on purpose, so resident size
// says nothing there; LeakSanitizer checks for leaks in that build instead.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool rss_is_meaningful = false;
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
constexpr bool rss_is_meaningful = false;
#  else
constexpr bool rss_is_meaningful = true;
#  endif
#else
constexpr bool rss_is_meaningful = true;
#endif

constexpr std::size_t block = 256;
constexpr double rate = 48000;

// Resident set size of this process, in KiB (Linux).
long rss_kib()
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

float ramp(std::uint64_t i)
{
    return float(i % 1000003) / 1000003.0f;
}

// Runs the io_context until `done` or until nothing is left to do.
void pump(asio::io_context& io, const bool& done)
{
    io.restart();
    while (!done && io.run_one_for(std::chrono::seconds(2)) != 0) {
    }
}

} // namespace

TEST_CASE("the virtual device loops a tone from an output stream to an input stream")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::output_stream out(io);
    coaudio::input_stream in(io);
    dev.open(out);
    dev.open(in);
    out.start();
    in.start();
    std::vector<float> tone(block * 40);
    for (std::size_t i = 0; i < tone.size(); ++i)
        tone[i] = float(0.5 * std::sin(2 * std::numbers::pi * 1000.0 * double(i) / rate));
    bool written = false;
    out.async_write_frames(std::span(tone).first(block * 16),
                           [&](std::error_code ec, std::size_t) { written = !ec; });
    pump(io, written);
    REQUIRE(written);
    dev.step(17); // one block of loopback delay
    std::vector<float> got(block * 16);
    bool read = false;
    in.async_read_frames(std::span(got),
                         [&](std::error_code ec, std::size_t n) { read = !ec && n == got.size(); });
    pump(io, read);
    REQUIRE(read);
    CHECK(std::equal(got.begin() + block, got.end(), tone.begin())); // bit-exact, one block late
    CHECK(std::abs(coaudio::rms(std::span<const float>(got).subspan(block)) - 0.3536) < 0.001);
}

TEST_CASE("a reader that falls behind for 60 seconds loses an exact count and recovers at once")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in, {.ring_frames = 8192});
    in.start();
    // The device's input is silence (nothing plays): count frames instead.
    const long rss_before = rss_kib();
    const std::size_t blocks = std::size_t(60 * rate / block); // 60 s of audio, stepped
    dev.step(blocks);
    const long rss_after = rss_kib();
    const auto stalled = in.counters();
    CHECK(stalled.frames + stalled.frames_dropped == blocks * block);
    CHECK(stalled.frames == in.ring_capacity()); // the ring held what it could
    CHECK(stalled.overflows == blocks - in.ring_capacity() / block);
    INFO("RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
    if (rss_is_meaningful) CHECK(rss_after - rss_before < 1024); // flat: the stall costs no memory

    // Catch up: everything in the ring, then the gap, then live data.
    std::vector<float> buf(block);
    std::uint64_t read = 0, lost = 0;
    bool done = false;
    std::function<void()> next = [&] {
        in.async_read_frames(std::span(buf), [&](std::error_code ec, std::size_t n) {
            REQUIRE_FALSE(ec);
            read += n;
            lost += in.last_read().frames_lost;
            if (in.frames_available() == 0)
                done = true;
            else
                next();
        });
    };
    next();
    pump(io, done);
    CHECK(read == in.ring_capacity());
    CHECK(lost == 0); // the gap sits after the buffered frames...
    dev.step(4);
    done = false;
    next();
    pump(io, done);
    CHECK(lost == stalled.frames_dropped); // ...and the first read after it reports all of it
    const auto after = in.counters();
    CHECK(after.frames + after.frames_dropped == (blocks + 4) * block); // produced = read + dropped
    CHECK(read == after.frames);
}

TEST_CASE("a writer that stops feeding makes the device play silence, never stale samples")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::output_stream out(io);
    coaudio::input_stream in(io);
    dev.open(out, {.ring_frames = 1024});
    dev.open(in, {.ring_frames = 1 << 15});
    out.start();
    in.start();
    std::vector<float> data(1024);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = 0.25f + ramp(i) * 0.5f; // never zero
    bool written = false;
    out.async_write_frames(std::span(data),
                           [&](std::error_code ec, std::size_t) { written = !ec; });
    pump(io, written);
    REQUIRE(written);
    dev.step(4 + 10); // four blocks of data, then ten with nothing written
    const auto c = out.counters();
    CHECK(c.underflows == 10); // every callback after the data ran dry
    CHECK(c.silence_frames == 10 * block);
    std::vector<float> got(13 * block);
    bool read = false;
    in.async_read_frames(std::span(got),
                         [&](std::error_code ec, std::size_t n) { read = !ec && n == got.size(); });
    pump(io, read);
    REQUIRE(read);
    // Block 0 is the loop's delay; then exactly the data; then zeros only.
    CHECK(std::equal(data.begin(), data.end(), got.begin() + block));
    const auto tail = std::span<const float>(got).subspan(block + data.size());
    CHECK(std::all_of(tail.begin(), tail.end(), [](float x) { return x == 0.0f; }));
}

TEST_CASE(
    "a lost device fails a pending read, a pending write and a pending drain with device_lost")
{
    asio::io_context io;
    auto dev =
        std::make_unique<coaudio::virtual_device>(coaudio::virtual_device_options{rate, block});
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    dev->open(in);
    dev->open(out, {.ring_frames = 512});
    in.start();
    out.start();
    std::vector<float> rbuf(block * 4), wbuf(4096);
    std::optional<std::error_code> r, w;
    in.async_read_frames(std::span(rbuf), [&](std::error_code ec, std::size_t) { r = ec; });
    out.async_write_frames(std::span(wbuf), [&](std::error_code ec, std::size_t) { w = ec; });
    io.poll();
    REQUIRE_FALSE(r);
    REQUIRE_FALSE(w);
    SECTION("unplugged")
    {
        dev->lose();
    }
    SECTION("device destroyed")
    {
        dev.reset();
    }
    io.restart();
    io.run_for(std::chrono::seconds(1));
    REQUIRE(r);
    REQUIRE(w);
    CHECK(*r == coaudio::errc::device_lost);
    CHECK(*w == coaudio::errc::device_lost);
    CHECK_FALSE(in.is_active());
}

TEST_CASE("an io_context stopped with operations pending completes them when run again")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in);
    in.start();
    std::vector<float> buf(block * 2);
    std::optional<std::size_t> got;
    in.async_read_frames(std::span(buf), [&](std::error_code ec, std::size_t n) {
        if (!ec) got = n;
    });
    io.poll(); // parks
    io.stop();
    dev.step(3); // the doorbell rings while the io_context is stopped
    io.poll();
    CHECK_FALSE(got); // stopped: nothing runs
    io.restart();
    io.run_for(std::chrono::seconds(1));
    REQUIRE(got);
    CHECK(*got == buf.size());
}

TEST_CASE("an io_context destroyed with operations pending frees everything")
{
    // Run under ASan/LSan: the pending operation's handler is destroyed
    // without running, which must release the stream's shared state.
    auto io = std::make_unique<asio::io_context>();
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    auto in = std::make_unique<coaudio::input_stream>(*io);
    dev.open(*in);
    in->start();
    std::vector<float> buf(block);
    bool ran = false;
    in->async_read_frames(std::span(buf), [&](std::error_code, std::size_t) { ran = true; });
    io->poll();
    in.reset(); // I/O objects go before their context, as with sockets
    io.reset();
    CHECK_FALSE(ran);
}

TEST_CASE("a stream closed or destroyed from another coroutine while its read is pending")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    auto in = std::make_unique<coaudio::input_stream>(io);
    dev.open(*in);
    in->start();
    std::optional<std::error_code> result;
    test::run(io, [&]() -> asio::awaitable<void> {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                std::vector<float> buf(block);
                auto [ec, n] = co_await in->async_read_frames(std::span(buf),
                                                              coaudio::as_tuple(use_awaitable));
                result = ec;
            },
            asio::detached);
        asio::steady_timer t(io, std::chrono::milliseconds(10));
        co_await t.async_wait(use_awaitable);
        in.reset();
        while (!result) {
            asio::steady_timer tick(io, std::chrono::milliseconds(1));
            co_await tick.async_wait(use_awaitable);
        }
    }());
    CHECK(*result == test::operation_aborted());
    dev.step(2); // the device no longer calls the destroyed stream
}

TEST_CASE(
    "cancel() 10,000 times around reads, and 1,000 start/stop/close cycles: no leak, memory flat")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in);
    in.start();
    std::vector<float> buf(block);
    std::size_t aborted = 0, completed = 0;
    const long rss_before = rss_kib();
    for (int i = 0; i < 10000; ++i) {
        in.async_read_frames(std::span(buf), [&](std::error_code ec, std::size_t) {
            (ec == test::operation_aborted() ? aborted : completed)++;
        });
        if (i % 7 == 0) dev.step(1); // sometimes the data is there first
        io.poll();
        in.cancel();
        io.restart();
        io.poll();
    }
    CHECK(aborted + completed == 10000);
    CHECK(aborted > 5000);
    CHECK(completed > 0);

    for (int i = 0; i < 1000; ++i) {
        coaudio::output_stream out(io);
        dev.open(out);
        out.start();
        dev.step(1);
        out.stop();
        out.start();
        out.abort();
        out.close();
    }
    const long rss_after = rss_kib();
    INFO("RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
    if (rss_is_meaningful) CHECK(rss_after - rss_before < 2048);
}

TEST_CASE("faults injected by the virtual device reach the counters and the reads")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    dev.open(in);
    dev.open(out);
    in.start();
    out.start();
    dev.step(1);
    dev.inject_input_overflow();
    dev.inject_output_underflow();
    dev.step(1);
    CHECK(in.counters().host_overflows == 1);
    CHECK(in.counters().overflows == 1);
    CHECK(out.counters().host_underflows == 1);
    std::vector<float> buf(block * 2);
    bool done = false;
    std::size_t n = 0;
    in.async_read_frames(std::span(buf), [&](std::error_code, std::size_t got) {
        n = got;
        done = true;
    });
    pump(io, done);
    CHECK(n == block);                    // the read ends where the host's gap begins...
    CHECK(in.last_read().overflows == 0); // ...its own data came before the fault
    done = false;
    in.async_read_frames(std::span(buf), [&](std::error_code, std::size_t got) {
        n = got;
        done = true;
    });
    dev.step(1);
    pump(io, done);
    CHECK(n == buf.size());
    CHECK(in.last_read().overflows == 1); // the next read starts after the gap and reports it
}
