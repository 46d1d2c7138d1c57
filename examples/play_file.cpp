// Plays a sound file (any format libsndfile reads) on a playback device,
// streaming it a block at a time, and exits once its last frame has been
// heard. Needs libsndfile (coaudio::sndfile).
//
//   play_file [--device NAME|INDEX] FILE
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
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "device_arg.hpp"
#include "quiet_stderr.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_no_device = 2;
constexpr int exit_usage = 64;

constexpr const char* usage_text = R"(usage: play_file [options] FILE

Plays a sound file (WAV, FLAC, Ogg, AIFF and the other formats libsndfile
reads) at its own rate and channel count, and exits once its last frame has
been heard. Ctrl-C stops it at once.

  --device NAME|INDEX playback device: an index from `devices`, or part of a
                      name (case-insensitive); default: the host's default
  --help              show this text

Exit status: 0 when played (or stopped by a signal), 1 when the file cannot
be read, 2 when no playback device takes the file's rate and channels,
64 on a bad command line.
)";

struct options {
    std::optional<std::string> device;
    std::string path;
    bool help = false;
};

std::string parse(int argc, char** argv, options& opt)
{
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i], v;
        if (arg == "--help" || arg == "-h") {
            opt.help = true;
            continue;
        }
        if (!arg.starts_with("--")) {
            if (!opt.path.empty()) return "more than one file given";
            opt.path = arg;
            continue;
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {
            v = arg.substr(eq + 1);
            arg.resize(eq);
        } else {
            if (i + 1 >= argc) return arg + " needs a value";
            v = argv[++i];
        }
        if (arg == "--device") {
            if (v.empty()) return "--device needs a name or an index";
            opt.device = v;
        } else
            return "unknown argument '" + std::string(argv[i]) + "'";
    }
    if (!opt.help && opt.path.empty()) return "no file given";
    return {};
}

} // namespace

int main(int argc, char** argv)
try {
    options opt;
    if (std::string error = parse(argc, argv, opt); !error.empty()) {
        std::fprintf(stderr, "play_file: %s\nTry 'play_file --help'.\n", error.c_str());
        return exit_usage;
    }
    if (opt.help) {
        std::fputs(usage_text, stdout);
        return exit_ok;
    }

    // Look at the file first: a missing or unreadable file is the user's
    // first problem to hear about.
    std::error_code ec;
    const auto file = coaudio::sound_file::open(opt.path, ec);
    if (ec) {
        std::fprintf(stderr, "play_file: cannot read %s: %s\n", opt.path.c_str(),
                     ec.message().c_str());
        return exit_failed;
    }
    const auto info = file.info();

    auto library = quiet_library(ec);
    if (ec) {
        std::fprintf(stderr, "play_file: cannot initialise PortAudio: %s\n", ec.message().c_str());
        return exit_no_device;
    }
    std::string problem;
    const auto dev = device_from_arg(opt.device, coaudio::device_kind::output, problem);
    if (!dev) {
        std::fprintf(stderr, "play_file: %s (see `devices`)\n", problem.c_str());
        return exit_no_device;
    }
    std::printf("play_file: %s: %s, %g Hz, %d channel%s, %.3f s, on device %d (%s, %s)\n",
                opt.path.c_str(), file.format_name().c_str(), info.sample_rate, info.channels,
                info.channels == 1 ? "" : "s", double(info.frames) / info.sample_rate, dev->index,
                dev->name.c_str(), dev->host_api_name.c_str());
    std::fflush(stdout);

    asio::io_context io(1);
    // A signal cancels the playback, which stops the sound at once.
    asio::cancellation_signal stop;
    bool stopped = false;
    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    signals.async_wait([&](std::error_code e, int) {
        if (e) return;
        stopped = true;
        stop.emit(asio::cancellation_type::terminal);
    });

    int status = exit_ok;
    const auto started = std::chrono::steady_clock::now();
    coaudio::async_play_file(
        io, opt.path, {.device = dev->index},
        asio::bind_cancellation_slot(stop.slot(), [&](std::error_code e) {
            signals.cancel();
            if (!e || (stopped && e == asio::error::operation_aborted)) return;
            std::fprintf(stderr, "play_file: cannot play %s on device %d (%s): %s\n",
                         opt.path.c_str(), dev->index, dev->name.c_str(), e.message().c_str());
            const bool refused = e == coaudio::errc::invalid_sample_rate ||
                                 e == coaudio::errc::invalid_channels ||
                                 e == coaudio::errc::device_not_found;
            status = refused ? exit_no_device : exit_failed;
        }));
    io.run();

    std::printf("play_file: %s after %.3f s\n",
                stopped ? "stopped" : (status == exit_ok ? "done" : "failed"),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "play_file: %s\n", e.what());
    return exit_failed;
}
