// Records from a capture device into a sound file in any format libsndfile
// writes (chosen by the file name: .wav, .flac, .ogg, .aiff, ...), streaming it
// to disk a block at a time. Needs libsndfile (coaudio::sndfile).
//
//   record_file [--seconds S] [--device NAME|INDEX] [--channels N] [--rate HZ]
//               [--bits 16|24|32 | --float] FILE
//
// Frames lost on the way are written as silence, so the file keeps time.
// Ctrl-C or SIGTERM ends the recording early; the file is still complete.
#include <coaudio/coaudio.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/sndfile.hpp>

#include <asio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdint>
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

constexpr const char* usage_text = R"(usage: record_file [options] FILE

Records from a capture device into FILE, in the format its name says
(.wav, .flac, .ogg, .aiff, .caf, .w64, ...: whatever libsndfile writes).

  --seconds S         how long to record (default 5); Ctrl-C stops early
  --device NAME|INDEX capture device: an index from `devices`, or part of a
                      name (case-insensitive); default: the host's default
  --channels N        channels (default: the device's, at most 2)
  --rate HZ           sample rate (default: the device's default rate)
  --bits 16|24|32     PCM sample size (default 16, where the format has PCM)
  --float             32-bit float samples
  --help              show this text

Exit status: 0 when the file is written (also when stopped early), 1 when
capture or writing fails, 2 when no capture device can be opened, 64 on a
bad command line or a file name whose format cannot be written.
)";

struct options {
    double seconds = 5;
    std::optional<std::string> device;
    std::optional<int> channels;
    double rate = 0;
    int subtype = 0; // SF_FORMAT_PCM_16 and friends; 0: the format's default
    std::string path;
    bool help = false;
};

bool parse_double(const std::string& s, double& out)
{
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
}

std::string parse(int argc, char** argv, options& opt)
{
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i], v;
        const bool flag = arg == "--help" || arg == "-h" || arg == "--float";
        if (!arg.starts_with("--") && arg != "-h") {
            if (!opt.path.empty()) return "more than one output file given";
            opt.path = arg;
            continue;
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {
            v = arg.substr(eq + 1);
            arg.resize(eq);
        } else if (!flag) {
            if (i + 1 >= argc) return arg + " needs a value";
            v = argv[++i];
        }
        double d = 0;
        if (arg == "--help" || arg == "-h")
            opt.help = true;
        else if (arg == "--float")
            opt.subtype = SF_FORMAT_FLOAT;
        else if (arg == "--bits") {
            if (v == "16")
                opt.subtype = SF_FORMAT_PCM_16;
            else if (v == "24")
                opt.subtype = SF_FORMAT_PCM_24;
            else if (v == "32")
                opt.subtype = SF_FORMAT_PCM_32;
            else
                return "--bits needs 16, 24 or 32";
        } else if (arg == "--seconds") {
            if (!parse_double(v, d) || d <= 0 || d > 24 * 3600) return "--seconds needs a duration";
            opt.seconds = d;
        } else if (arg == "--device") {
            if (v.empty()) return "--device needs a name or an index";
            opt.device = v;
        } else if (arg == "--channels") {
            if (!parse_double(v, d) || d < 1 || d > 256 || d != std::floor(d))
                return "--channels needs 1 to 256";
            opt.channels = static_cast<int>(d);
        } else if (arg == "--rate") {
            if (!parse_double(v, d) || d < 1000 || d > 1e6) return "--rate needs a rate in Hz";
            opt.rate = d;
        } else
            return "unknown argument '" + std::string(argv[i]) + "'";
    }
    if (!opt.help && opt.path.empty()) return "no output file given";
    return {};
}

} // namespace

int main(int argc, char** argv)
try {
    options opt;
    if (std::string error = parse(argc, argv, opt); !error.empty()) {
        std::fprintf(stderr, "record_file: %s\nTry 'record_file --help'.\n", error.c_str());
        return exit_usage;
    }
    if (opt.help) {
        std::fputs(usage_text, stdout);
        return exit_ok;
    }

    std::error_code ec;
    auto library = quiet_library(ec);
    if (ec) {
        std::fprintf(stderr, "record_file: cannot initialise PortAudio: %s\n",
                     ec.message().c_str());
        return exit_no_device;
    }
    std::string problem;
    const auto dev = device_from_arg(opt.device, coaudio::device_kind::input, problem);
    if (!dev) {
        std::fprintf(stderr, "record_file: %s (see `devices`)\n", problem.c_str());
        return exit_no_device;
    }
    const int channels = opt.channels.value_or(std::min(dev->max_input_channels, 2));
    const double rate = opt.rate > 0 ? opt.rate : dev->default_sample_rate;

    // The file's format: the type from its name, the encoding from the options.
    int format = coaudio::file_format_for(opt.path, channels, rate, ec);
    if (!ec && opt.subtype != 0) {
        SF_INFO check{};
        check.samplerate = static_cast<int>(std::lround(rate));
        check.channels = channels;
        check.format = (format & SF_FORMAT_TYPEMASK) | opt.subtype;
        if (sf_format_check(&check))
            format = check.format;
        else
            ec = std::make_error_code(std::errc::not_supported);
    }
    if (ec) {
        std::fprintf(stderr, "record_file: cannot write %s in that format: %s\n", opt.path.c_str(),
                     ec.message().c_str());
        return exit_usage;
    }
    const auto frames = static_cast<std::uint64_t>(std::llround(opt.seconds * rate));

    asio::io_context io(1);
    asio::cancellation_signal stop;
    bool stopped = false;
    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    signals.async_wait([&](std::error_code e, int) {
        if (e) return;
        stopped = true;
        stop.emit(asio::cancellation_type::terminal); // the recording keeps what it has
    });

    std::printf("record_file: %g s from device %d (%s, %s), %.0f Hz, %d channel%s, to %s\n",
                opt.seconds, dev->index, dev->name.c_str(), dev->host_api_name.c_str(), rate,
                channels, channels == 1 ? "" : "s", opt.path.c_str());
    std::fflush(stdout);

    int status = exit_ok;
    std::uint64_t written = 0;
    coaudio::async_record_file(
        io, opt.path, frames, rate, channels, {.device = dev->index, .format = format},
        asio::bind_cancellation_slot(stop.slot(), [&](std::error_code e, std::uint64_t n) {
            signals.cancel();
            written = n;
            if (!e || (stopped && e == asio::error::operation_aborted)) return;
            std::fprintf(stderr, "record_file: %s\n", e.message().c_str());
            const bool refused =
                e == coaudio::errc::invalid_sample_rate || e == coaudio::errc::invalid_channels ||
                e == coaudio::errc::device_not_found || e == coaudio::errc::invalid_format;
            status = refused ? exit_no_device : exit_failed;
        }));
    io.run();

    if (status == exit_ok) {
        std::error_code open_ec;
        const auto done = coaudio::sound_file::open(opt.path, open_ec);
        std::printf("record_file: wrote %llu frames (%.3f s), %s, to %s%s\n",
                    static_cast<unsigned long long>(written), double(written) / rate,
                    open_ec ? "?" : done.format_name().c_str(), opt.path.c_str(),
                    stopped ? ", stopped early" : "");
    }
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "record_file: %s\n", e.what());
    return exit_failed;
}
