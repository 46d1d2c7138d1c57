// Plays a sine: a coroutine computes blocks and writes them to an output
// stream, which waits while its ring is full; then it awaits the drain, so
// the program ends once the last frame has been played, not merely queued.
//
//   tone [--freq HZ] [--amplitude A] [--seconds S] [--device NAME|INDEX]
//        [--channels N] [--rate HZ] [--verbose]
//
// Ctrl-C or SIGTERM stops it early (exit status 0). --seconds 0 plays until then.
#include <coaudio/coaudio.hpp>

#include <asio.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/devices.hpp"

namespace {

constexpr const char* usage_text = R"(usage: tone [options]

Plays a sine wave and exits once its last frame has been played.

  --freq HZ           frequency, below half the sample rate (default 440)
  --amplitude A       peak amplitude, 0 to 1 of full scale (default 0.2;
                      0.5 reads -6.0 dBFS peak and -9.0 dBFS RMS on a meter)
  --seconds S         duration (default 2; 0 plays until Ctrl-C or SIGTERM)
  --device NAME|INDEX playback device: an index from `devices`, or part of a
                      name (case-insensitive); default: the host's default
  --channels N        channels, each playing the same sine (default 1)
  --rate HZ           sample rate (default: the device's default rate)
  --stall-timeout S   fail when the device delivers no audio for S seconds
                      (a frozen server; default 2; 0 waits forever)
)";

struct options {
    double freq = 440;
    double amplitude = 0.2;
    double seconds = 2;
    std::optional<std::string> device;
    int channels = 1;
    double rate = 0;
    std::chrono::milliseconds stall_timeout{2000};
};

// Writes the sine block by block until `frames_total` frames (0: forever),
// then waits until the last of them has been played.
asio::awaitable<void> play(coaudio::output_stream& out, const options& opt, bool& stopping)
{
    const double rate = out.sample_rate();
    const auto channels = static_cast<std::size_t>(out.channels());
    const auto frames_total = static_cast<std::uint64_t>(std::llround(opt.seconds * rate));
    const std::size_t block_frames = 1024;
    const double step = 2 * std::numbers::pi * opt.freq / rate;
    // Short ramps at both ends: a sine that starts or stops at full swing clicks.
    const double ramp = std::min(0.005 * rate, frames_total / 2.0);
    std::vector<float> block(block_frames * channels);
    double phase = 0;
    std::uint64_t t = 0;
    while (!stopping && (frames_total == 0 || t < frames_total)) {
        const std::size_t n =
            frames_total == 0
                ? block_frames
                : static_cast<std::size_t>(std::min<std::uint64_t>(block_frames, frames_total - t));
        for (std::size_t i = 0; i < n; ++i, ++t) {
            double gain = opt.amplitude;
            if (frames_total != 0 && ramp >= 1) {
                gain *= std::min({1.0, double(t) / ramp, double(frames_total - 1 - t) / ramp});
            } else if (frames_total == 0 && ramp >= 1) {
                gain *= std::min(1.0, double(t) / ramp);
            }
            const auto s = static_cast<float>(gain * std::sin(phase));
            phase = std::fmod(phase + step, 2 * std::numbers::pi);
            std::fill_n(block.begin() + static_cast<std::ptrdiff_t>(i * channels), channels, s);
        }
        // Waits while the ring is full: the audio thread's pace sets ours.
        auto [ec, frames] = co_await out.async_write_frames(std::span(block).first(n * channels),
                                                            coaudio::as_tuple(asio::use_awaitable));
        (void)frames;
        if (stopping) co_return;
        if (ec) throw std::system_error(ec, "tone: write");
    }
    auto [ec] = co_await out.async_drain(coaudio::as_tuple(asio::use_awaitable));
    if (ec && !stopping) throw std::system_error(ec, "tone: drain");
}

} // namespace

int main(int argc, char** argv)
try {
    using namespace examples;
    options opt;
    command_line cli("tone", usage_text);
    cli.number("--freq", opt.freq, {.min = 0, .exclusive_min = true});
    cli.number("--amplitude", opt.amplitude, {.min = 0, .max = 1});
    cli.number("--seconds", opt.seconds, {.min = 0, .max = 24 * 3600});
    cli.text("--device", opt.device);
    cli.whole("--channels", opt.channels, 1, 256);
    cli.number("--rate", opt.rate, {.min = 1000, .max = 1e6});
    cli.stall_timeout(opt.stall_timeout);
    cli.parse(argc, argv);
    if (opt.rate > 0) cli.check_below_nyquist("--freq", opt.freq, opt.rate);

    // One PortAudio initialisation for the whole run, out of sight.
    auto library = open_library(cli);
    const auto dev = require_device(cli, opt.device, coaudio::device_kind::output);

    asio::io_context io(1);
    coaudio::output_stream out(io);
    std::error_code ec;
    {
        quiet_stderr quiet(!cli.verbose());
        out.open({.device = dev.index,
                  .channels = opt.channels,
                  .sample_rate = opt.rate,
                  .stall_timeout = opt.stall_timeout},
                 ec);
    }
    if (ec) {
        std::fprintf(stderr, "tone: cannot open device %d (%s, %s): %s\n", dev.index,
                     dev.name.c_str(), dev.host_api_name.c_str(), ec.message().c_str());
        return exit_no_device;
    }
    cli.check_below_nyquist("--freq", opt.freq, out.sample_rate());
    out.start(ec);
    if (ec) {
        std::fprintf(stderr, "tone: cannot start device %d (%s, %s): %s\n", dev.index,
                     dev.name.c_str(), dev.host_api_name.c_str(), ec.message().c_str());
        return exit_no_device;
    }
    char duration[32] = "until stopped";
    if (opt.seconds > 0) std::snprintf(duration, sizeof duration, "for %g s", opt.seconds);
    std::printf("tone: %g Hz at amplitude %g (%.1f dBFS peak) on device %d (%s, %s), %.0f Hz, %d "
                "channel%s, %s\n",
                opt.freq, opt.amplitude, coaudio::to_dbfs(opt.amplitude), dev.index,
                dev.name.c_str(), dev.host_api_name.c_str(), out.sample_rate(), out.channels(),
                out.channels() == 1 ? "" : "s", duration);
    std::fflush(stdout);

    // A signal stops the writer and discards what is queued.
    bool stopping = false;
    asio::signal_set signals(io, SIGINT, SIGTERM);
#ifdef SIGHUP // not on Windows
    signals.add(SIGHUP);
#endif
    signals.async_wait([&](std::error_code e, int) {
        if (e) return;
        stopping = true;
        out.cancel(ec);
        out.abort(ec);
    });

    int status = exit_ok;
    const auto started = std::chrono::steady_clock::now();
    asio::co_spawn(io, play(out, opt, stopping), [&](std::exception_ptr e) {
        signals.cancel();
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "%s\n", x.what());
            status = exit_failed;
        }
    });
    io.run();

    // "done" only when the whole tone was played.
    const auto c = out.counters();
    std::printf(
        "tone: %s after %.3f s: %llu frames played, %llu underflows (%llu frames of silence)\n",
        stopping            ? "stopped"
        : status == exit_ok ? "done"
                            : "failed",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
        static_cast<unsigned long long>(c.frames), static_cast<unsigned long long>(c.underflows),
        static_cast<unsigned long long>(c.silence_frames));
    return finish("tone", status);
} catch (const std::exception& e) {
    std::fprintf(stderr, "tone: %s\n", e.what());
    return examples::exit_failed;
}
