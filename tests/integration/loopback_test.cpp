// Real audio through PortAudio and a JACK dummy server: what is played comes back.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/play.hpp"
#include "support/run.hpp"

#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

using namespace std::chrono_literals;
using asio::use_awaitable;

namespace {

constexpr double rate = 48000;
constexpr unsigned long block = 256;

coaudio::stream_config config(coaudio::sample_format format = coaudio::sample_format::float32,
                              std::size_t ring_frames = 0)
{
    return {.device = test::jack_device_index(),
            .channels = 1,
            .format = format,
            .sample_rate = rate,
            .frames_per_block = block,
            .ring_frames = ring_frames};
}

// An output and an input stream on one io_context, wired output -> input.
struct loopback {
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    coaudio::output_stream out;
    coaudio::input_stream in;

    explicit loopback(coaudio::sample_format format = coaudio::sample_format::float32,
                      std::size_t in_ring = 0, std::size_t out_ring = 0)
        : out(io), in(io)
    {
        bay.mark();
        out.open(config(format, out_ring));
        in.open(config(format, in_ring));
        in.start();
        out.start();
        bay.loop_new_ports();
        bay.isolate_new_inputs();
    }
};

// Reads and discards until the captured signal has been loud for a while, so
// the measurement starts past the silence before the loopback carries sound.
asio::awaitable<void> skip_until_signal(coaudio::input_stream& in, float threshold = 0.1f)
{
    std::vector<float> buf(block);
    for (int loud = 0; loud < 4;) {
        const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
        loud = coaudio::peak(std::span<const float>(buf.data(), n)) > threshold ? loud + 1 : 0;
    }
}

// asio::async_write of all of `tone`, which the coroutine owns: the write may
// outlive the test's coroutine, and must never outlive its samples.
asio::awaitable<void> write_all(coaudio::output_stream& out, std::vector<float> tone)
{
    const std::size_t bytes = co_await asio::async_write(out, asio::buffer(tone), use_awaitable);
    CHECK(bytes == tone.size() * sizeof(float));
}

} // namespace

TEST_CASE("a 1 kHz sine played out comes back at 1 kHz with RMS 0.354", "[realtime]")
{
    loopback lb;
    test::run(lb.io, [&]() -> asio::awaitable<void> {
        // Play six seconds while capturing half a second from the middle of it.
        test::play_in_background(lb.out,
                                 test::sine(static_cast<std::size_t>(rate * 6), 1000, 0.5, rate));
        co_await skip_until_signal(lb.in);
        std::vector<float> captured(static_cast<std::size_t>(rate / 2));
        // A read ends early, successfully, where the server reported lost input
        // (an xrun of a non-realtime server on a busy machine); the capture then
        // starts over after the gap.
        std::size_t n = 0;
        for (int i = 0; i < 10 && n < captured.size(); ++i)
            n = co_await lb.in.async_read_frames(std::span(captured), use_awaitable);
        REQUIRE(n == captured.size());
        const double level = coaudio::rms(captured);
        const double freq = test::zero_crossing_frequency(captured, rate);
        const auto c = lb.in.counters();
        INFO("rms " << level << " frequency " << freq << ", server xruns " << c.host_overflows);
        CHECK(std::abs(level - 0.5 / std::sqrt(2.0)) < 0.01);
        CHECK(std::abs(freq - 1000.0) < 5.0);
        // The reader kept up: the ring never overflowed. (A non-realtime server
        // on a busy machine may flag xruns of its own; those are counted apart.)
        CHECK(c.frames_dropped == 0);
        CHECK(c.overflows == c.host_overflows);
        CHECK(lb.in.last_read().frames_lost == 0);
    }());
}

TEST_CASE("int16 and int32 streams carry the tone at full-scale-relative level", "[realtime]")
{
    SECTION("int16")
    {
        loopback lb(coaudio::sample_format::int16);
        test::run(lb.io, [&]() -> asio::awaitable<void> {
            std::vector<std::int16_t> tone(static_cast<std::size_t>(rate));
            const auto f = test::sine(tone.size(), 1000, 0.5, rate);
            for (std::size_t i = 0; i < tone.size(); ++i)
                tone[i] = static_cast<std::int16_t>(f[i] * 32767.0f);
            test::play_in_background(lb.out, std::move(tone));
            std::vector<std::int16_t> buf(block);
            double sum = 0;
            std::size_t count = 0, loud = 0;
            while (count < 12000) {
                const std::size_t n =
                    co_await lb.in.async_read_frames(std::span(buf), use_awaitable);
                std::int16_t p = 0;
                for (std::size_t i = 0; i < n; ++i)
                    p = std::max<std::int16_t>(p, static_cast<std::int16_t>(std::abs(buf[i])));
                if (loud < 4) {
                    loud = p > 3000 ? loud + 1 : 0;
                    continue;
                }
                for (std::size_t i = 0; i < n; ++i)
                    sum += double(buf[i]) * buf[i];
                count += n;
            }
            const double level = std::sqrt(sum / double(count)) / 32767.0;
            INFO("rms " << level);
            CHECK(std::abs(level - 0.3536) < 0.01);
        }());
    }
    SECTION("int32")
    {
        loopback lb(coaudio::sample_format::int32);
        test::run(lb.io, [&]() -> asio::awaitable<void> {
            std::vector<std::int32_t> tone(static_cast<std::size_t>(rate));
            const auto f = test::sine(tone.size(), 1000, 0.5, rate);
            for (std::size_t i = 0; i < tone.size(); ++i)
                tone[i] = static_cast<std::int32_t>(f[i] * 2147483647.0);
            test::play_in_background(lb.out, std::move(tone));
            std::vector<std::int32_t> buf(block);
            double sum = 0;
            std::size_t count = 0, loud = 0;
            while (count < 12000) {
                const std::size_t n =
                    co_await lb.in.async_read_frames(std::span(buf), use_awaitable);
                double p = 0;
                for (std::size_t i = 0; i < n; ++i)
                    p = std::max(p, std::abs(double(buf[i])));
                if (loud < 4) {
                    loud = p > 2e8 ? loud + 1 : 0;
                    continue;
                }
                for (std::size_t i = 0; i < n; ++i)
                    sum += double(buf[i]) * double(buf[i]);
                count += n;
            }
            const double level = std::sqrt(sum / double(count)) / 2147483647.0;
            INFO("rms " << level);
            CHECK(std::abs(level - 0.3536) < 0.01);
        }());
    }
}

TEST_CASE("asio::async_write and asio::async_read compose with the streams", "[realtime]")
{
    loopback lb;
    test::run(lb.io, [&]() -> asio::awaitable<void> {
        asio::co_spawn(
            lb.io, write_all(lb.out, test::sine(static_cast<std::size_t>(rate), 1000, 0.5, rate)),
            asio::detached);
        co_await skip_until_signal(lb.in);
        std::vector<float> captured(9600);
        const std::size_t bytes =
            co_await asio::async_read(lb.in, asio::buffer(captured), use_awaitable);
        REQUIRE(bytes == captured.size() * sizeof(float));
        CHECK(std::abs(coaudio::rms(captured) - 0.3536) < 0.01);
    }());
}

TEST_CASE("a writer faster than real time parks on a full ring and resumes, losing nothing",
          "[realtime]")
{
    constexpr std::size_t ring = 4096;
    loopback lb(coaudio::sample_format::float32, 0, ring);
    REQUIRE(lb.out.ring_capacity() == ring);
    test::run(lb.io, [&]() -> asio::awaitable<void> {
        const std::size_t total =
            static_cast<std::size_t>(rate); // one second, far more than the ring
        const auto tone = test::sine(total, 1000, 0.5, rate);
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t written = 0;
        int parked_writes = 0;
        while (written < total) {
            // Write in chunks; a chunk that does not fit must wait for the callback.
            const std::size_t chunk = std::min<std::size_t>(2048, total - written);
            const bool fits = lb.out.frames_writable() >= chunk;
            written += co_await lb.out.async_write_frames(std::span(tone).subspan(written, chunk),
                                                          use_awaitable);
            if (!fits) ++parked_writes;
        }
        co_await lb.out.async_drain(use_awaitable);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto c = lb.out.counters();
        INFO("elapsed " << elapsed << " s, parked writes " << parked_writes << ", frames played "
                        << c.frames << ", underflows " << c.underflows);
        CHECK(parked_writes > 0);
        // It could only finish by keeping pace with the 48 kHz clock.
        CHECK(elapsed > double(total - ring) / rate * 0.9);
        CHECK(c.frames == total);
        CHECK(c.underflows == 0);
        CHECK(c.silence_frames == 0);
    }());
}

TEST_CASE("a writer that stops feeding plays exact silence, never stale samples, and underflows "
          "are counted",
          "[realtime]")
{
    // The data fits the output ring whole, so the write completes at once and
    // the playback cannot run dry in the middle of it: everything heard after
    // its last frame comes from the writer having stopped. An xrun of the
    // server (a non-realtime one on a busy machine has them) loses frames on
    // the way and spoils the comparison, so a run that saw one is repeated.
    constexpr std::size_t ring = 8192;
    bool clean = false;
    for (int attempt = 0; attempt < 5 && !clean; ++attempt) {
        loopback lb(coaudio::sample_format::float32, 1 << 16, ring);
        test::run(lb.io, [&]() -> asio::awaitable<void> {
            std::vector<float> data(4096);
            for (std::size_t i = 0; i < data.size(); ++i)
                data[i] = 0.25f + 0.5f * float(i % 997) / 997.0f; // never 0
            const auto before = lb.out.counters();
            const auto in_before = lb.in.counters();
            co_await lb.out.async_write_frames(std::span(data), use_awaitable);
            // Half a second of capture: silence, the data, then the silence of a writer that
            // stopped.
            std::vector<float> got(static_cast<std::size_t>(rate / 2));
            co_await asio::async_read(lb.in, asio::buffer(got), use_awaitable);
            const auto after = lb.out.counters();
            const auto in_after = lb.in.counters();
            if (in_after.host_overflows != in_before.host_overflows ||
                after.host_underflows != before.host_underflows)
                co_return;
            clean = true;

            const auto first =
                std::find_if(got.begin(), got.end(), [](float x) { return x != 0.0f; });
            REQUIRE(first != got.end());
            const auto offset = std::size_t(first - got.begin());
            INFO("data starts at frame " << offset << " of the capture");
            REQUIRE(offset + data.size() <= got.size());
            CHECK(std::equal(data.begin(), data.end(),
                             first)); // bit-exact through JACK's float ports
            const auto tail = std::span<const float>(got).subspan(offset + data.size());
            CHECK(tail.size() > 16 * block);
            CHECK(std::all_of(tail.begin(), tail.end(), [](float x) { return x == 0.0f; }));
            // Every callback after the data ran dry is counted, with the silence it played.
            CHECK(after.frames - before.frames == data.size());
            CHECK(after.underflows - before.underflows >= tail.size() / block - 1);
            CHECK(after.silence_frames - before.silence_frames >= tail.size() - block);
        }());
    }
    CHECK(clean);
}

TEST_CASE("a reader that stalls for one second overflows, is told so, and keeps receiving",
          "[realtime]")
{
    loopback lb(coaudio::sample_format::float32, 8192);
    test::run(lb.io, [&]() -> asio::awaitable<void> {
        test::play_in_background(lb.out,
                                 test::sine(static_cast<std::size_t>(rate * 3), 1000, 0.5, rate));
        co_await skip_until_signal(lb.in);
        const auto before = lb.in.counters();

        asio::steady_timer stall(lb.io, 1s);
        co_await stall.async_wait(use_awaitable);

        std::vector<float> buf(block);
        std::uint64_t lost = 0;
        std::size_t reads = 0;
        // Drain what the ring kept; the read that meets the gap reports it.
        while (lost == 0 && reads < 100) {
            co_await lb.in.async_read_frames(std::span(buf), use_awaitable);
            lost += lb.in.last_read().frames_lost;
            ++reads;
        }
        const auto after = lb.in.counters();
        INFO("dropped " << after.frames_dropped - before.frames_dropped << ", reported " << lost);
        CHECK(after.overflows > before.overflows);
        CHECK(after.frames_dropped > before.frames_dropped);
        CHECK(lost > 0);
        CHECK(lost <= after.frames_dropped);
        // Still delivering, and the tone is intact after the gap.
        std::vector<float> more(4800);
        const std::size_t n = co_await lb.in.async_read_frames(std::span(more), use_awaitable);
        CHECK(n > 0);
        CHECK(std::abs(coaudio::rms(std::span<const float>(more.data(), n)) - 0.3536) < 0.02);
    }());
}

TEST_CASE("overflow_is_error reports the gap as input_overflow with the data", "[realtime]")
{
    auto cfg = config(coaudio::sample_format::float32, 1024);
    cfg.overflow_is_error = true;
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, cfg);
    in.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        asio::steady_timer stall(io, 200ms); // 1024 frames last about 21 ms
        co_await stall.async_wait(use_awaitable);
        std::vector<float> buf(block);
        std::error_code ec;
        std::size_t n = 0;
        for (int i = 0; i < 20 && !ec; ++i)
            std::tie(ec, n) =
                co_await in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
        CHECK(ec == coaudio::errc::input_overflow);
        CHECK(n > 0);
        CHECK(in.last_read().frames_lost > 0);
        // The next read goes on normally.
        std::tie(ec, n) =
            co_await in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
        CHECK_FALSE(ec);
        CHECK(n == buf.size());
    }());
}
