// Plays a sound file (any format libsndfile reads) on a playback device,
// streaming it a block at a time, and exits once its last frame has been
// heard. Needs libsndfile (coaudio::sndfile).
//
//   play_file [--device NAME|INDEX] FILE
//
// The file is opened once, so it may be a pipe (/dev/stdin). A file shorter
// than its header says is played, with a warning.
//
// Ctrl-C or SIGTERM stops the sound at once (exit status 0).
#include <coaudio/coaudio.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/sndfile.hpp>

#include <asio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "common/command_line.hpp"
#include "common/devices.hpp"
#include "common/signal_stop.hpp"

namespace {

constexpr const char* usage_text = R"(usage: play_file [options] FILE

Plays a sound file (WAV, FLAC, Ogg, AIFF and the other formats libsndfile
reads) at its own rate and channel count, and exits once its last frame has
been heard. Ctrl-C stops it at once. FILE may be a pipe: `cat x.wav |
play_file /dev/stdin`.

  --device NAME|INDEX playback device: an index from `devices`, or part of a
                      name (case-insensitive); default: the host's default
)";

// How many frames the file's header promises, when libsndfile found fewer in
// the file (it reads "data : 288000 (should be 99956)" into its log) or 0.
std::uint64_t frames_promised(const coaudio::sound_file& file)
{
    std::string log(16384, '\0');
    sf_command(file.native_handle(), SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size()));
    unsigned long long said = 0, found = 0;
    for (std::size_t at = 0; (at = log.find("data :", at)) != std::string::npos; ++at)
        if (std::sscanf(log.c_str() + at, "data : %llu (should be %llu)", &said, &found) == 2 &&
            found > 0 && said > found)
            return static_cast<std::uint64_t>(
                std::llround(double(file.info().frames) * double(said) / double(found)));
    return 0;
}

} // namespace

int main(int argc, char** argv)
try {
    using namespace examples;
    std::optional<std::string> device, path;
    command_line cli("play_file", usage_text);
    cli.text("--device", device);
    cli.operand("FILE", path, true);
    cli.parse(argc, argv);

    // The file first, and once only (a pipe can be read only once): a missing
    // or unreadable file is the user's first problem to hear about.
    std::error_code ec;
    auto file = coaudio::sound_file::open(*path, ec);
    if (ec) {
        std::fprintf(stderr, "play_file: cannot read %s: %s\n", path->c_str(),
                     ec.message().c_str());
        return exit_failed;
    }
    const auto info = file.info();
    // A file cut short: the header says more than there is.
    std::uint64_t promised = frames_promised(file);
    if (promised == 0) promised = info.frames;

    auto library = open_library(cli);
    const auto dev = require_device(cli, device, coaudio::device_kind::output);
    std::printf("play_file: %s: %s, %g Hz, %d channel%s, %.3f s, on device %d (%s, %s)\n",
                path->c_str(), file.format_name().c_str(), info.sample_rate, info.channels,
                info.channels == 1 ? "" : "s", double(promised) / info.sample_rate, dev.index,
                dev.name.c_str(), dev.host_api_name.c_str());
    std::fflush(stdout);

    asio::io_context io(1);
    coaudio::output_stream out(io);
    {
        quiet_stderr quiet(!cli.verbose());
        coaudio::stream_config cfg{.device = dev.index,
                                   .channels = info.channels,
                                   .format = coaudio::sample_format::float32,
                                   .sample_rate = info.sample_rate,
                                   .latency = coaudio::latency_hint::high()};
        out.open(cfg, ec);
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
        // The device runs at its own rate; async_play_file converts the file to it.
        if (ec == coaudio::errc::invalid_sample_rate) {
            cfg.sample_rate = 0;
            out.open(cfg, ec);
        }
#endif
    }
    if (!ec && std::abs(out.sample_rate() - info.sample_rate) > 0.5) {
        std::printf("play_file: converting %g Hz to the device's %g Hz\n", info.sample_rate,
                    out.sample_rate());
        std::fflush(stdout);
    }
    if (ec) {
        std::fprintf(stderr, "play_file: device %d (%s) cannot play %s (%g Hz, %d channels): %s\n",
                     dev.index, dev.name.c_str(), path->c_str(), info.sample_rate, info.channels,
                     ec.message().c_str());
        return exit_no_device;
    }

    // A signal cancels the playback, which stops the sound at once.
    signal_stop stop(io);

    int status = exit_ok;
    std::uint64_t played = 0;
    const auto started = std::chrono::steady_clock::now();
    coaudio::async_play_file(
        out, file,
        asio::bind_cancellation_slot(stop.slot(), [&](coaudio::error_code e, std::uint64_t n) {
            stop.done();
            played = n;
            if (!e || (stop.stopped() && e == asio::error::operation_aborted)) return;
            std::fprintf(stderr, "play_file: cannot play %s on device %d (%s): %s\n", path->c_str(),
                         dev.index, dev.name.c_str(), e.message().c_str());
            status = exit_failed;
        }));
    io.run();

    if (!stop.stopped() && status == exit_ok && played < promised)
        std::fprintf(
            stderr, "play_file: warning: %s is shorter than its header says: %.3f s of %.3f s\n",
            path->c_str(), double(played) / info.sample_rate, double(promised) / info.sample_rate);
    std::printf("play_file: %s after %.3f s: %llu frames played\n",
                stop.stopped() ? "stopped" : (status == exit_ok ? "done" : "failed"),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                static_cast<unsigned long long>(played));
    return finish("play_file", status);
} catch (const std::exception& e) {
    std::fprintf(stderr, "play_file: %s\n", e.what());
    return examples::exit_failed;
}
