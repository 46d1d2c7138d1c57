// One-shot operations, as sounddevice's play(), rec() and playrec(): each
// opens a stream, does its one job and closes it, and is one co_await.
//
//   oneshot [--device NAME|INDEX] [--seconds S] [--freq HZ] [--amplitude A]
//
// 1. async_play     plays a sine and completes once its last frame was heard;
// 2. async_record   records S seconds and returns them;
// 3. async_playrec  plays a click and records at the same time on one duplex
//                   stream: where the click comes back in the recording is the
//                   round trip, output to input (route the output back to the
//                   input to see one, e.g. with a cable or JACK's patchbay).
//
// Ctrl-C cancels the operation under way: a play stops at once, a recording
// keeps what it has.
#include <coaudio/coaudio.hpp>
#include <coaudio/oneshot.hpp>

#include <asio.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/devices.hpp"
#include "common/signal_stop.hpp"

namespace {

constexpr const char* usage_text = R"(usage: oneshot [options]

Plays a sine with async_play, records with async_record, then plays a click
and records it back with async_playrec, and reports what each returned.

  --device NAME|INDEX the device for both directions: an index from `devices`,
                      or part of a name; default: the host's defaults
  --seconds S         how long to play, and to record (default 1)
  --freq HZ           the sine's frequency, below half the rate (default 440)
  --amplitude A       the sine's peak amplitude, 0 to 1 (default 0.2)
)";

struct settings {
    std::optional<std::string> device;
    double seconds = 1;
    double freq = 440;
    double amplitude = 0.2;
};

std::vector<float> sine(const settings& s, double rate)
{
    std::vector<float> out(static_cast<std::size_t>(std::llround(s.seconds * rate)));
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<float>(s.amplitude *
                                    std::sin(2 * std::numbers::pi * s.freq * double(i) / rate));
    return out;
}

asio::awaitable<void> run(const settings& s, const coaudio::device_info& in,
                          const coaudio::device_info& out, asio::cancellation_slot stop)
{
    auto ex = co_await asio::this_coro::executor;
    const double rate = out.default_sample_rate;
    auto token = asio::bind_cancellation_slot(stop, asio::use_awaitable);

    // 1. Play, and complete when the last frame has been heard.
    const std::vector<float> tone = sine(s, rate);
    co_await coaudio::async_play(ex, tone, rate, {.device = out.index}, token);
    std::printf("async_play: played %.3f s of %g Hz on %s\n", double(tone.size()) / rate, s.freq,
                out.name.c_str());

    // 2. Record, and get the samples back.
    const auto frames = static_cast<std::size_t>(std::llround(s.seconds * in.default_sample_rate));
    std::vector<float> rec = co_await coaudio::async_record(ex, frames, in.default_sample_rate,
                                                            {.device = in.index}, token);
    std::printf("async_record: %zu frames from %s: rms %.1f dBFS, peak %.1f dBFS\n", rec.size(),
                in.name.c_str(), coaudio::rms_dbfs(rec), coaudio::peak_dbfs(rec));

    // 3. Play a click and record on one stream, one clock: sample i of the
    // recording was captured in the callback that played sample i.
    std::vector<float> click(static_cast<std::size_t>(rate / 2)); // half a second
    click[0] = 0.5f;
    std::vector<float> echo = co_await coaudio::async_playrec(
        ex, click, rate, {.input = {.device = in.index}, .output = {.device = out.index}}, token);
    const auto loudest = std::max_element(
        echo.begin(), echo.end(), [](float a, float b) { return std::abs(a) < std::abs(b); });
    if (loudest == echo.end() || std::abs(*loudest) < 0.01f)
        std::printf("async_playrec: %zu frames, no click came back (output not routed to input)\n",
                    echo.size());
    else
        std::printf("async_playrec: %zu frames, the click came back after %td frames (%.1f ms)\n",
                    echo.size(), loudest - echo.begin(),
                    1e3 * double(loudest - echo.begin()) / rate);
}

} // namespace

int main(int argc, char** argv)
try {
    using namespace examples;
    settings s;
    command_line cli("oneshot", usage_text);
    cli.text("--device", s.device);
    cli.number("--seconds", s.seconds, {.min = 0, .max = 3600, .exclusive_min = true});
    cli.number("--freq", s.freq, {.min = 0, .exclusive_min = true});
    cli.number("--amplitude", s.amplitude, {.min = 0, .max = 1});
    cli.parse(argc, argv);

    auto library = open_library(cli);
    const auto in = require_device(cli, s.device, coaudio::device_kind::input);
    const auto out = require_device(cli, s.device, coaudio::device_kind::output);
    cli.check_below_nyquist("--freq", s.freq, out.default_sample_rate);

    asio::io_context io(1);
    signal_stop stop(io);
    std::string failure;
    asio::co_spawn(io, run(s, in, out, stop.slot()), [&](std::exception_ptr e) {
        stop.done();
        if (!e || stop.caused(e)) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            failure = x.what();
        }
    });
    {
        // Each operation opens its stream as it starts: keep the hosts quiet
        // (and say what failed once they are done).
        quiet_stderr quiet(!cli.verbose());
        io.run();
    }
    if (!failure.empty()) std::fprintf(stderr, "oneshot: %s\n", failure.c_str());
    return finish("oneshot", failure.empty() ? exit_ok : exit_failed);
} catch (const std::exception& e) {
    std::fprintf(stderr, "oneshot: %s\n", e.what());
    return examples::exit_failed;
}
