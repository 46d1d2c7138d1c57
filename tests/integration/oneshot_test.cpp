// One-shot play, record and playrec on real PortAudio (JACK dummy server,
// 48 kHz, 256-frame periods): timing, alignment, cancellation, bad input.
#include <coaudio/oneshot.hpp>

#include "support/aborted.hpp"
#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/loop_when_open.hpp"
#include "support/run.hpp"

#include <coaudio/level.hpp>
#include <coaudio/library.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr double rate = 48000;
constexpr unsigned long block = 256;
constexpr double block_seconds = double(block) / rate;
// What the scheduler may add on a shared two-core machine, sanitizers included.
constexpr double slack = 0.06;

double seconds_since(clock_type::time_point t0)
{
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

coaudio::stream_config play_on_jack(int channels = 1)
{
    return {.device = test::jack_device_index(), .channels = channels, .frames_per_block = block};
}

coaudio::stream_config jack_config(int channels = 1)
{
    return {.device = test::jack_device_index(),
            .channels = channels,
            .sample_rate = rate,
            .frames_per_block = block};
}

// A linear chirp from f0 to f1 over the buffer, as sounddevice users test with.
std::vector<float> chirp(double seconds, double f0, double f1, double amplitude)
{
    const auto n = static_cast<std::size_t>(seconds * rate);
    std::vector<float> x(n);
    const double k = (f1 - f0) / seconds;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = double(i) / rate;
        x[i] = static_cast<float>(amplitude *
                                  std::sin(2.0 * std::numbers::pi * (f0 * t + 0.5 * k * t * t)));
    }
    return x;
}

struct correlation_peak {
    std::size_t lag = 0;
    double normalized = 0; // 1: the recording is the signal, delayed
};

// The lag in [0, max_lag] at which `rec` best matches `sig` delayed.
correlation_peak cross_correlate(const std::vector<float>& sig, const std::vector<float>& rec,
                                 std::size_t max_lag)
{
    correlation_peak best;
    double best_c = -1e300;
    for (std::size_t lag = 0; lag <= max_lag && lag < rec.size(); ++lag) {
        double c = 0;
        for (std::size_t i = 0; i + lag < rec.size() && i < sig.size(); ++i)
            c += double(rec[i + lag]) * sig[i];
        if (c > best_c) {
            best_c = c;
            best.lag = lag;
        }
    }
    double es = 0, er = 0;
    for (std::size_t i = 0; i + best.lag < rec.size() && i < sig.size(); ++i) {
        es += double(sig[i]) * sig[i];
        er += double(rec[i + best.lag]) * rec[i + best.lag];
    }
    best.normalized = es > 0 && er > 0 ? best_c / std::sqrt(es * er) : 0;
    return best;
}

} // namespace

TEST_CASE("playrec of a chirp returns a recording aligned to it at a stable lag", "[realtime]")
{
    coaudio::library lib;
    const auto sig = chirp(0.5, 200, 8000, 0.5);
    std::vector<correlation_peak> peaks;
    for (int run = 0; run < 3; ++run) {
        // A fresh stream each time: the lag must not depend on when it starts.
        asio::io_context io;
        test::jack_patchbay bay;
        bay.mark();
        coaudio::duplex_stream stream(io, {.input = jack_config(), .output = jack_config()});
        bay.loop_new_ports(); // before the start, so the first callback already loops back
        std::vector<float> rec(sig.size());
        test::run(io, [&]() -> asio::awaitable<void> {
            auto [ec, n] =
                co_await coaudio::async_playrec(stream, std::span<const float>(sig), std::span(rec),
                                                coaudio::as_tuple(use_awaitable));
            CHECK(!ec);
            CHECK(n == sig.size());
            CHECK_FALSE(stream.is_active()); // drained
        }());
        peaks.push_back(cross_correlate(sig, rec, 4096));
        INFO("run " << run << ": lag " << peaks.back().lag << " frames, normalized peak "
                    << peaks.back().normalized);
        CHECK(peaks.back().normalized > 0.95);

        if (run == 2) {
            // The same stream again, now finished and with input left over:
            // the same alignment. PortAudio's JACK host drops a stream's
            // connections when it stops, so the loop is wired again as soon
            // as the operation has started the stream; the first milliseconds
            // of the chirp miss the loop, which lowers the peak, not its lag.
            using namespace awaitable_ops;
            std::vector<float> again(sig.size());
            test::run(io, [&]() -> asio::awaitable<void> {
                auto wire_once_started = [&]() -> asio::awaitable<void> {
                    asio::steady_timer tick(io);
                    while (!stream.is_active()) {
                        tick.expires_after(1ms);
                        co_await tick.async_wait(use_awaitable);
                    }
                    bay.loop_new_ports();
                };
                co_await (coaudio::async_playrec(stream, std::span<const float>(sig),
                                                 std::span(again), use_awaitable) &&
                          wire_once_started());
            }());
            const auto p = cross_correlate(sig, again, 4096);
            INFO("reused stream: lag " << p.lag << " normalized peak " << p.normalized);
            CHECK(p.lag == peaks.front().lag);
            CHECK(p.normalized > 0.8);
        }
    }
    REQUIRE(peaks.size() == 3);
    CHECK(peaks[0].lag == peaks[1].lag);
    CHECK(peaks[1].lag == peaks[2].lag);
    CHECK(peaks[0].lag <= 4 * block); // a few periods, not a random offset
}

TEST_CASE("playrec on a device of its own records exactly as many frames as it plays", "[realtime]")
{
    coaudio::library lib;
    asio::io_context io;
    const int dev = test::jack_device_index();
    const auto sig = chirp(0.25, 200, 8000, 0.5);
    std::vector<float> stereo(sig.size() * 2);
    for (std::size_t i = 0; i < sig.size(); ++i)
        stereo[2 * i] = stereo[2 * i + 1] = sig[i];
    test::run(io, [&]() -> asio::awaitable<void> {
        const auto t0 = clock_type::now();
        auto [ec, rec] = co_await coaudio::async_playrec(
            io.get_executor(), stereo, rate,
            {.input = {.device = dev, .frames_per_block = block},
             .output = {.device = dev, .channels = 2, .frames_per_block = block}},
            coaudio::as_tuple(use_awaitable));
        const double elapsed = seconds_since(t0);
        INFO("elapsed " << elapsed << " s");
        CHECK(!ec);
        CHECK(rec.size() == sig.size()); // one input channel, as many frames as played
        CHECK(elapsed >= 0.25 - block_seconds);
    }());
}

TEST_CASE("play completes once the last frame has been heard, not when it was queued", "[realtime]")
{
    coaudio::library lib;
    asio::io_context io;
    const auto tone = test::sine(static_cast<std::size_t>(rate), 440, 0.25, rate); // one second

    SECTION("on a device of its own")
    {
        test::run(io, [&]() -> asio::awaitable<void> {
            const auto t0 = clock_type::now();
            auto [ec] = co_await coaudio::async_play(io.get_executor(), tone, rate, play_on_jack(),
                                                     coaudio::as_tuple(use_awaitable));
            const double elapsed = seconds_since(t0);
            INFO("1 s of sound played in " << elapsed << " s");
            CHECK(!ec);
            CHECK(elapsed >= 1.0);
            CHECK(elapsed < 1.0 + 0.3);
        }());
    }
    SECTION("on a stream of the caller's, whose counters show every frame played")
    {
        coaudio::output_stream out(io, jack_config());
        const double latency = out.latency();
        test::run(io, [&]() -> asio::awaitable<void> {
            const auto t0 = clock_type::now();
            const std::size_t n = co_await coaudio::async_play(out, std::span(tone), use_awaitable);
            const double elapsed = seconds_since(t0);
            INFO("played in " << elapsed << " s, output latency " << latency << " s");
            CHECK(n == tone.size());
            CHECK(out.counters().frames == tone.size());
            CHECK_FALSE(out.is_active());
            // The first frame was heard one output latency after the start,
            // and the last one a second later: the wait covers both.
            CHECK(elapsed >= 1.0 + latency - block_seconds);
            CHECK(elapsed < 1.0 + latency + 0.3);
            // And again on the same, now finished, stream.
            const auto t1 = clock_type::now();
            const std::size_t m =
                co_await coaudio::async_play(out, std::span(tone).first(24000), use_awaitable);
            CHECK(m == 24000);
            CHECK(seconds_since(t1) >= 0.5);
        }());
    }
}

TEST_CASE("cancelling play stops the sound within one block", "[realtime]")
{
    coaudio::library lib;
    asio::io_context io;
    const auto five_seconds = test::sine(static_cast<std::size_t>(5 * rate), 440, 0.25, rate);

    SECTION("through a cancellation signal")
    {
        asio::cancellation_signal cancel;
        std::optional<std::error_code> result;
        clock_type::time_point emitted, completed;
        const auto t0 = clock_type::now();
        coaudio::async_play(io, five_seconds, rate, play_on_jack(),
                            asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
                                completed = clock_type::now();
                                result = ec;
                            }));
        asio::steady_timer timer(io, 200ms);
        timer.async_wait([&](std::error_code) {
            emitted = clock_type::now();
            cancel.emit(asio::cancellation_type::terminal);
        });
        io.run_for(3s);
        REQUIRE(result.has_value());
        const double stop_latency = std::chrono::duration<double>(completed - emitted).count();
        INFO("cancelled after " << std::chrono::duration<double>(emitted - t0).count()
                                << " s; completed " << stop_latency * 1000
                                << " ms after the cancellation (one block: " << block_seconds * 1000
                                << " ms)");
        CHECK(*result == test::operation_aborted());
        CHECK(stop_latency < block_seconds + slack);
    }
    SECTION("on a stream of the caller's: at most the block in progress is played after the "
            "cancellation")
    {
        coaudio::output_stream out(io, jack_config());
        asio::cancellation_signal cancel;
        std::optional<std::error_code> result;
        std::uint64_t frames_at_cancel = 0;
        coaudio::async_play(
            out, std::span(five_seconds),
            asio::bind_cancellation_slot(cancel.slot(),
                                         [&](std::error_code ec, std::size_t) { result = ec; }));
        asio::steady_timer timer(io, 200ms);
        timer.async_wait([&](std::error_code) {
            frames_at_cancel = out.counters().frames;
            cancel.emit(asio::cancellation_type::terminal);
        });
        io.run_for(3s);
        REQUIRE(result.has_value());
        const std::uint64_t after = out.counters().frames - frames_at_cancel;
        INFO(after << " frames were played after the cancellation (one block: " << block << ")");
        CHECK(*result == test::operation_aborted());
        CHECK_FALSE(out.is_active());
        // The callback running when the cancellation came may finish; the one
        // after it may already have been under way when abort() reached JACK.
        CHECK(after <= 2 * block);
    }
    SECTION("raced against a timer with ||, on a stream whose output then stays still")
    {
        using namespace awaitable_ops;
        coaudio::output_stream out(io, jack_config());
        test::run(io, [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(io, 200ms);
            const auto t0 = clock_type::now();
            auto winner =
                co_await (coaudio::async_play(out, std::span(five_seconds), use_awaitable) ||
                          timer.async_wait(use_awaitable));
            const double elapsed = seconds_since(t0);
            INFO("|| completed after " << elapsed * 1000 << " ms (timer: 200 ms)");
            CHECK(winner.index() == 1);
            CHECK(elapsed < 0.2 + block_seconds + slack);
            CHECK_FALSE(out.is_active());
            const auto frames = out.counters().frames;
            CHECK(frames > 0);
            CHECK(frames < static_cast<std::uint64_t>(0.5 * rate));
            asio::steady_timer later(io, 100ms);
            co_await later.async_wait(use_awaitable);
            CHECK(out.counters().frames == frames); // nothing more was played
        }());
    }
}

TEST_CASE("record returns the frames asked for, and what it has when cancelled")
{
    coaudio::library lib;
    asio::io_context io;
    const int dev = test::jack_device_index();

    SECTION("to the end")
    {
        test::run(io, [&]() -> asio::awaitable<void> {
            const auto t0 = clock_type::now();
            std::vector<float> rec = co_await coaudio::async_record(
                io.get_executor(), 24000, rate,
                {.device = dev, .channels = 2, .frames_per_block = block}, use_awaitable);
            const double elapsed = seconds_since(t0);
            INFO("0.5 s recorded in " << elapsed << " s");
            CHECK(rec.size() == 48000); // two channels
            CHECK(elapsed >= 0.5 - 2 * block_seconds);
        }());
    }
    SECTION("cancelled")
    {
        asio::cancellation_signal cancel;
        std::optional<std::error_code> result;
        std::vector<float> rec;
        clock_type::time_point emitted, completed;
        coaudio::async_record(io, static_cast<std::size_t>(5 * rate), rate,
                              {.device = dev, .frames_per_block = block},
                              asio::bind_cancellation_slot(
                                  cancel.slot(), [&](std::error_code ec, std::vector<float> r) {
                                      completed = clock_type::now();
                                      result = ec;
                                      rec = std::move(r);
                                  }));
        asio::steady_timer timer(io, 300ms);
        timer.async_wait([&](std::error_code) {
            emitted = clock_type::now();
            cancel.emit(asio::cancellation_type::terminal);
        });
        io.run_for(3s);
        REQUIRE(result.has_value());
        const double latency = std::chrono::duration<double>(completed - emitted).count();
        INFO(rec.size() << " frames kept; completed " << latency * 1000
                        << " ms after the cancellation");
        CHECK(*result == test::operation_aborted());
        CHECK(rec.size() >=
              static_cast<std::size_t>(0.1 * rate)); // 300 ms less opening and starting
        CHECK(rec.size() <= static_cast<std::size_t>(0.4 * rate));
        CHECK(latency < block_seconds + slack);
    }
}

TEST_CASE("a tone played with async_play comes back through async_record", "[realtime]")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    coaudio::output_stream out(io, jack_config());
    coaudio::input_stream in(io, jack_config());
    bay.loop_new_ports();
    const auto tone = test::sine(static_cast<std::size_t>(rate), 1000, 0.5, rate);
    std::vector<float> rec(static_cast<std::size_t>(rate / 2));
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await (coaudio::async_play(out, std::span(tone), use_awaitable) &&
                  coaudio::async_record(in, std::span(rec), use_awaitable));
    }());
    // Past the first blocks, the recording is the tone.
    const std::span<const float> steady = std::span<const float>(rec).subspan(4800);
    INFO("rms " << coaudio::rms(steady) << " frequency "
                << test::zero_crossing_frequency(steady, rate));
    CHECK(std::abs(coaudio::rms(steady) - 0.3536) < 0.01);
    CHECK(std::abs(test::zero_crossing_frequency(steady, rate) - 1000.0) < 5.0);
    CHECK_FALSE(in.is_active()); // started by the record, so stopped by it
}

TEST_CASE("a one-shot recording takes the whole stream configuration, mapping included",
          "[realtime]")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    coaudio::output_stream out(io, jack_config()); // mono: plays on the device's first output
    const auto tone = test::sine(static_cast<std::size_t>(rate), 1000, 0.5, rate);
    // The stream's channel 1 is the device's input 2, its channel 2 input 1.
    const coaudio::stream_config swapped{
        .device = test::jack_device_index(), .frames_per_block = block, .mapping = {2, 1}};
    std::vector<float> rec;
    test::run(io, [&]() -> asio::awaitable<void> {
        auto record = [&]() -> asio::awaitable<void> {
            rec = co_await coaudio::async_record(io, 24000, rate, swapped, use_awaitable);
        };
        co_await (coaudio::async_play(out, std::span(tone), use_awaitable) &&
                  (test::loop_when_open(bay, true) && record()));
    }());
    REQUIRE(rec.size() == 2 * 24000); // two channels, from the mapping
    std::vector<float> first, second;
    for (std::size_t i = 12000; i < 24000; ++i) { // the second half: wiring took a few periods
        first.push_back(rec[2 * i]);
        second.push_back(rec[2 * i + 1]);
    }
    INFO("rms of channel 1 " << coaudio::rms(first) << ", of channel 2 " << coaudio::rms(second));
    CHECK(coaudio::rms(first) < 1e-4);
    CHECK(std::abs(coaudio::rms(second) - 0.3536) < 0.01);
    CHECK(std::abs(test::zero_crossing_frequency(second, rate) - 1000.0) < 5.0);
}

TEST_CASE("bad arguments and refused settings complete with clear errors, never inline")
{
    coaudio::library lib;
    asio::io_context io;
    const int dev = test::jack_device_index();
    const std::vector<float> three(3), nine(9);

    std::vector<std::error_code> errors;
    auto keep = [&](std::error_code ec, auto&&...) { errors.push_back(ec); };
    coaudio::async_play(io, three, rate, {.device = dev, .channels = 2},
                        keep);                                    // 3 samples, 2 channels
    coaudio::async_play(io, three, 44100, {.device = dev}, keep); // JACK runs at 48 kHz
    coaudio::async_play(io, three, rate, {.device = 9999}, keep); // no such device
    coaudio::async_play(io, three, rate, {.device = dev, .channels = 0}, keep); // no channels
    coaudio::async_play(io, nine, rate, {.device = dev, .channels = 3}, keep);  // JACK has 2
    coaudio::async_record(io, 10, rate, {.device = dev, .channels = 0}, keep);
    coaudio::async_playrec(io, three, 44100, {.input = {.device = dev}, .output = {.device = dev}},
                           keep);
    CHECK(errors.empty()); // nothing completes inside the initiating call
    io.run_for(5s);
    REQUIRE(errors.size() == 7);
    CHECK(errors[0] == coaudio::errc::not_whole_frames);
    CHECK(errors[1] == coaudio::errc::invalid_sample_rate);
    CHECK(errors[2] == coaudio::errc::device_not_found);
    CHECK(errors[3] == coaudio::errc::invalid_channels);
    CHECK(errors[4] == coaudio::errc::invalid_channels);
    CHECK(errors[5] == coaudio::errc::invalid_channels);
    CHECK(errors[6] == coaudio::errc::invalid_sample_rate);

    // On a stream of the caller's: closed, wrong type, running.
    test::run(io, [&]() -> asio::awaitable<void> {
        coaudio::output_stream closed(io);
        std::vector<float> f(256);
        auto [e1, n1] =
            co_await coaudio::async_play(closed, std::span(f), coaudio::as_tuple(use_awaitable));
        CHECK(e1 == coaudio::errc::not_open);
        CHECK(n1 == 0);

        coaudio::input_stream in(io, jack_config());
        std::vector<std::int16_t> wrong(256);
        auto [e2, n2] =
            co_await coaudio::async_record(in, std::span(wrong), coaudio::as_tuple(use_awaitable));
        CHECK(e2 == coaudio::errc::format_mismatch);

        coaudio::duplex_stream d(io, {.input = jack_config(), .output = jack_config()});
        d.start();
        std::vector<float> rec(256);
        auto [e3, n3] = co_await coaudio::async_playrec(
            d, std::span<const float>(f), std::span(rec), coaudio::as_tuple(use_awaitable));
        CHECK(e3 == std::errc::device_or_resource_busy);
        d.abort();
        std::vector<float> short_rec(100);
        auto [e4, n4] = co_await coaudio::async_playrec(
            d, std::span<const float>(f), std::span(short_rec), coaudio::as_tuple(use_awaitable));
        CHECK(e4 == std::errc::invalid_argument);
    }());
}

TEST_CASE("the one-shot operations take any completion token")
{
    coaudio::library lib;
    asio::io_context io;
    const int dev = test::jack_device_index();
    const auto blip = test::sine(2400, 1000, 0.25, rate); // 50 ms

    // Deferred: nothing happens until the operation is launched, and a
    // launched copy runs its own coroutine.
    auto op =
        coaudio::async_play(io.get_executor(), blip, rate, {.device = dev}, coaudio::deferred);
    int done = 0;
    std::move(op)([&](std::error_code ec) {
        CHECK(!ec);
        ++done;
    });
    io.run_for(3s);
    CHECK(done == 1);

    // The default token of an executor that names one.
    using awaitable_executor =
        asio::use_awaitable_t<>::executor_with_default<asio::io_context::executor_type>;
    test::run(io, [&]() -> asio::awaitable<void> {
        std::vector<float> rec = co_await coaudio::async_record(
            awaitable_executor(io.get_executor()), 480, rate, {.device = dev});
        CHECK(rec.size() == 480);
    }());
}
