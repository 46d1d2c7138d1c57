// The resampled streams (coaudio/resampled_stream.hpp) on the virtual device
// at 48 kHz, stepped from the io thread: a tone written at 44.1 kHz comes
// back at 16 kHz; read times are those of the device frames the converted
// frames stand for; a stalled reader's loss is reported at 16 kHz and time
// is kept across it.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/resampled_stream.hpp>
#include <coaudio/virtual_device.hpp>

#include "support/aborted.hpp"
#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/run.hpp"
#include "support/tone.hpp"

#include <coaudio/level.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/system_executor.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <future>
#include <memory>
#include <numbers>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

using asio::use_awaitable;

namespace {

constexpr double device_rate = 48000;
constexpr unsigned long block = 256;

/// Steps the device one block per turn of the io_context until `done`.
void step_until(asio::io_context& io, coaudio::virtual_device& dev, const bool& done)
{
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (!done) {
                dev.step(1);
                co_await asio::post(use_awaitable);
            }
        },
        asio::detached);
}

coaudio::resampled_input_stream open_input(asio::io_context& io, coaudio::virtual_device& dev,
                                           double rate, coaudio::stream_config cfg = {})
{
    coaudio::input_stream in(io);
    dev.open(in, cfg);
    return coaudio::resampled_input_stream(std::move(in), rate);
}

} // namespace

TEST_CASE("a 1 kHz tone written at 44.1 kHz is read back at 16 kHz through the 48 kHz device")
{
    using namespace awaitable_ops;
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = device_rate, .frames_per_block = block});
    coaudio::output_stream raw_out(io);
    dev.open(raw_out, {.ring_frames = 8192});
    coaudio::resampled_output_stream out(std::move(raw_out), 44100);
    auto in = open_input(io, dev, 16000, {.ring_frames = 8192});
    REQUIRE(out.device_rate() == device_rate);
    REQUIRE(in.sample_rate() == 16000);

    const auto tone = test::sine(2 * 44100, 1000, 0.5, 44100);
    std::vector<float> rec(24000); // 1.5 s
    std::vector<double> times;     // each read's first frame: its ADC time
    std::vector<std::size_t> at;   // and its index
    std::vector<double> dac;       // each write's first frame: its DAC time
    std::uint64_t underflows_after_first_write = 0;
    std::uint64_t dropped_while_reading = 0;
    bool done = false;
    out.start();
    in.start();
    step_until(io, dev, done);
    test::run(io, [&]() -> asio::awaitable<void> {
        auto writer = [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < tone.size(); i += 1000) {
                const auto n = std::min<std::size_t>(1000, tone.size() - i);
                const std::size_t w = co_await out.async_write_frames(
                    std::span<const float>(tone).subspan(i, n), use_awaitable);
                CHECK(w == n);
                dac.push_back(out.last_write().output_time);
                if (i == 0) underflows_after_first_write = out.next_layer().counters().underflows;
            }
            co_await out.async_drain(use_awaitable);
            underflows_after_first_write =
                out.next_layer().counters().underflows - underflows_after_first_write;
        };
        auto reader = [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < rec.size(); i += 1600) {
                const std::size_t n =
                    co_await in.async_read_frames(std::span(rec).subspan(i, 1600), use_awaitable);
                CHECK(n == 1600);
                CHECK(in.last_read().frames_lost == 0);
                times.push_back(in.last_read().input_time);
                at.push_back(i);
            }
            dropped_while_reading = in.next_layer().counters().frames_dropped;
        };
        co_await (writer() && reader());
        done = true;
    }());

    // 0.5 s to 1.25 s: past the start and the filters' edges.
    const auto mid = std::span<const float>(rec).subspan(8000, 12000);
    const double freq = test::interpolated_frequency(mid, 16000);
    const double level =
        coaudio::to_dbfs(coaudio::rms(mid)) - coaudio::to_dbfs(0.5 / std::sqrt(2.0));
    INFO("frequency " << freq << " Hz, level error " << level << " dB");
    CHECK(std::abs(freq - 1000.0) < 1.0);
    CHECK(std::abs(level) < 0.1);

    // Converted frame k stands for device frame 3k: the virtual device's
    // frame j was captured at j / 48000 s (its clock starts at 0 with the
    // first block), so frame k at k / 16000 s.
    double worst = 0;
    for (std::size_t r = 0; r < times.size(); ++r)
        worst = std::max(worst, std::abs(times[r] - double(at[r]) / 16000));
    INFO("worst read time error " << worst * 1e6 << " us");
    CHECK(worst < 1e-9);
    CHECK(dropped_while_reading == 0);

    // Written frame j stands for device frame j * 48000 / 44100: with no
    // underflow after the first write, each write's DAC time is the second's
    // plus the frames between them at 44.1 kHz. (The first write's is a
    // block early, as the inner stream's is: the stream started empty, and
    // the silence of its first block delayed what followed.)
    double worst_dac = 0;
    for (std::size_t w = 1; w < dac.size(); ++w)
        worst_dac = std::max(worst_dac, std::abs(dac[w] - dac[1] - double((w - 1) * 1000) / 44100));
    INFO("worst write time error " << worst_dac * 1e6 << " us, underflows after the first write "
                                   << underflows_after_first_write);
    CHECK(dac[0] > 0);
    CHECK(underflows_after_first_write == 0);
    // The drain flushed the filter: 2 s at 44.1 kHz played as 2 s at 48 kHz, whole.
    CHECK(out.next_layer().counters().frames == 96000);
    CHECK(worst_dac < 1e-9);
}

TEST_CASE("a stalled reader's loss is reported at 16 kHz, and time is kept across it")
{
    for (bool overflow_is_error : {false, true}) {
        asio::io_context io;
        coaudio::virtual_device dev({.sample_rate = device_rate, .frames_per_block = block});
        // A 1 kHz tone at 48 kHz plays into the loopback from a ring that
        // holds all of it, so that the input captures device frame j as
        // tone frame j - 256 (the loopback's block of delay) whatever the reader does.
        coaudio::output_stream player(io);
        dev.open(player, {.ring_frames = 480000});
        const auto tone = test::sine(480000, 1000, 0.5, device_rate);
        REQUIRE(player.async_write_frames(std::span(tone), asio::use_future).get() == tone.size());
        auto in = open_input(io, dev, 16000,
                             {.ring_frames = 4096, .overflow_is_error = overflow_is_error});
        player.start();
        in.start();
        std::vector<float> rec(40 * 1600);
        std::uint64_t delivered = 0;
        std::uint64_t gap_at = 0;
        std::uint64_t lost = 0;
        int overflow_errors = 0;
        bool done = false;
        step_until(io, dev, done);
        test::run(io, [&]() -> asio::awaitable<void> {
            using coaudio::as_tuple;
            for (int r = 0; r < 40; ++r) {
                // The reader stalls for 101 blocks (25856 frames): the ring of
                // 4096 frames fills and the rest is dropped.
                if (r == 10) dev.step(101);
                auto [ec, n] = co_await in.async_read_frames(
                    std::span(rec).subspan(delivered,
                                           std::min<std::size_t>(1600, rec.size() - delivered)),
                    as_tuple(use_awaitable));
                if (ec == coaudio::errc::input_overflow)
                    ++overflow_errors;
                else
                    REQUIRE_FALSE(ec);
                const auto st = in.last_read();
                if (st.frames_lost != 0) gap_at = delivered;

                lost += st.frames_lost;
                // The first frame of this read is converted frame `delivered`,
                // which stands for device frame 3 * delivered: lost frames
                // were fed as silence, so the count keeps time.
                CHECK(std::abs(st.input_time - double(delivered) / 16000) < 1e-9);
                delivered += n;
            }
            done = true;
        }());
        const auto c = in.next_layer().counters();
        INFO("overflow_is_error " << overflow_is_error << ": device frames dropped "
                                  << c.frames_dropped << ", reported at 16 kHz " << lost);
        CHECK(c.frames_dropped > 20000);
        CHECK(lost == static_cast<std::uint64_t>(std::llround(double(c.frames_dropped) / 3)));
        CHECK(overflow_errors == (overflow_is_error ? 1 : 0));

        // What was read keeps time with the tone: converted frame k stands for
        // device frame 3k, tone frame 3k - 256, on both sides of the gap; the
        // lost frames are silence. 20 frames (1.25 ms) at each edge are the
        // filter's.
        double before = 0, after = 0, silence = 0;
        for (std::size_t k = 200; k < delivered; ++k) {
            const double want =
                0.5 * std::sin(2 * std::numbers::pi * 1000 * (3.0 * double(k) - 256) / device_rate);
            const double e = std::abs(double(rec[k]) - want);
            if (k + 20 < gap_at)
                before = std::max(before, e);
            else if (k > gap_at + 20 && k + 20 < gap_at + lost)
                silence = std::max(silence, double(std::abs(rec[k])));
            else if (k > gap_at + lost + 20)
                after = std::max(after, e);
        }
        INFO("error before the gap " << before << ", after " << after << ", silence peak "
                                     << silence);
        CHECK(gap_at > 0);
        CHECK(before < 1e-3);
        CHECK(after < 1e-3);
        CHECK(silence < 1e-3);
    }
}

TEST_CASE("resampled streams: read_some and write_some, cancellation, errors")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = device_rate, .frames_per_block = block});
    auto in = open_input(io, dev, 16000);
    coaudio::output_stream raw_out(io);
    dev.open(raw_out);
    coaudio::resampled_output_stream out(std::move(raw_out), 16000);
    in.start();
    out.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        using coaudio::as_tuple;
        std::vector<float> buf(1000);
        // A parked read, cancelled through its slot.
        asio::cancellation_signal cancel;
        bool cancelled = false;
        in.async_read_frames(std::span(buf),
                             asio::bind_cancellation_slot(cancel.slot(), [&](auto ec, std::size_t) {
                                 CHECK(std::error_code(ec) == test::operation_aborted());
                                 cancelled = true;
                             }));
        cancel.emit(asio::cancellation_type::terminal);
        co_await asio::post(use_awaitable);
        co_await asio::post(use_awaitable);
        CHECK(cancelled);

        dev.step(10);
        auto [ec, bytes] = co_await in.async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
        CHECK_FALSE(ec);
        CHECK(bytes > 0);
        CHECK(bytes % sizeof(float) == 0);
        std::vector<float> odd(3);
        auto [oec, on] =
            co_await in.async_read_frames(std::span(odd).first(0), as_tuple(use_awaitable));
        CHECK_FALSE(oec);
        CHECK(on == 0);

        auto [wec, wb] = co_await out.async_write_some(asio::buffer(std::as_const(buf)),
                                                       as_tuple(use_awaitable));
        CHECK_FALSE(wec);
        CHECK(wb > 0);
        CHECK(wb % sizeof(float) == 0);
    }());

    coaudio::resampled_input_stream closed(io);
    CHECK_FALSE(closed.is_open());
    test::run(io, [&]() -> asio::awaitable<void> {
        using coaudio::as_tuple;
        std::vector<float> buf(16);
        auto [ec, n] = co_await closed.async_read_frames(std::span(buf), as_tuple(use_awaitable));
        CHECK(ec == coaudio::errc::not_open);
        CHECK(n == 0);
    }());
}

TEST_CASE("a handler on an executor of its own may destroy the stream and the io_context")
{
    // The handler runs on the system executor, with nothing running the
    // io_context, and destroys the stream and the io_context before it
    // returns, as a caller woken by `use_future` may do at once. An operation
    // that touches either after calling its handler (a work guard it
    // releases, or the last reference to the stream's state) reads freed
    // memory, which ASan reports (the asan preset runs this).
    auto io = std::make_unique<asio::io_context>();
    coaudio::virtual_device dev({.sample_rate = device_rate, .frames_per_block = block});
    std::vector<float> buf(256);
    std::promise<std::pair<std::error_code, std::size_t>> result;
    auto fut = result.get_future();
    std::unique_ptr<coaudio::resampled_input_stream> in;
    std::unique_ptr<coaudio::resampled_output_stream> out;
    auto last = [&](auto& stream) {
        return asio::bind_executor(asio::system_executor(),
                                   [&](coaudio::error_code ec, std::size_t n) {
                                       stream.reset();
                                       io.reset();
                                       result.set_value({ec, n});
                                   });
    };
    SECTION("a read")
    {
        in = std::make_unique<coaudio::resampled_input_stream>(
            open_input(*io, dev, 16000, {.ring_frames = 8192}));
        in->start();
        dev.step(16); // 4096 device frames: more than the converter's delay
        in->async_read_frames(std::span(buf), last(in));
    }
    SECTION("a write")
    {
        coaudio::output_stream raw_out(*io);
        dev.open(raw_out, {.ring_frames = 8192});
        out = std::make_unique<coaudio::resampled_output_stream>(std::move(raw_out), 16000);
        out->start();
        out->async_write_frames(std::span<const float>(buf), last(out));
    }
    REQUIRE(fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    const auto [ec, n] = fut.get();
    CHECK_FALSE(ec);
    CHECK(n == buf.size());
    CHECK(!io);
}
