// Records from a capture device into a sound file in any format libsndfile
// writes (chosen by the file name: .wav, .flac, .ogg, .aiff, ...), streaming it
// to disk a block at a time. Needs libsndfile (coaudio::sndfile).
//
//   record [--seconds S] [--device NAME|INDEX] [--channels N] [--rate HZ]
//          [--bits 16|24|32 | --float] FILE
//
// Frames lost on the way are written as silence, so the file keeps time.
// Ctrl-C or SIGTERM ends the recording early; the file is still complete.
// The header is brought up to date after every block written, so a recording
// cut short by SIGKILL, the OOM killer or a power cut still plays back to
// within a block or so of where it stopped.
#include <coaudio/coaudio.hpp>
#include <coaudio/sndfile.hpp>

#include <asio.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "common/command_line.hpp"
#include "common/devices.hpp"
#include "common/signal_stop.hpp"

namespace {

constexpr const char* usage_text = R"(usage: record [options] FILE

Records from a capture device into FILE, in the format its name says
(.wav, .flac, .ogg, .aiff, .caf, .w64, ...: whatever libsndfile writes).

  --seconds S         how long to record (default 5); Ctrl-C stops early
  --device NAME|INDEX capture device: an index from `devices`, or part of a
                      name (case-insensitive); default: the host's default
  --channels N        channels (default: the device's, at most 2)
  --rate HZ           sample rate (default: the device's default rate)
  --bits 16|24|32     PCM sample size (default 16, where the format has PCM)
  --float             32-bit float samples
  --stall-timeout S   fail when the device delivers no audio for S seconds
                      (a frozen server; default 2; 0 waits forever)

A file name whose format cannot be written is a bad command line (64). The
file's header is kept up to date as it grows, so a recording that is killed
still plays.
)";

struct options {
    double seconds = 5;
    std::optional<std::string> device;
    std::optional<int> channels;
    double rate = 0;
    std::optional<int> bits;
    bool float_samples = false;
    std::optional<std::string> path;
    std::chrono::milliseconds stall_timeout{2000};
};

} // namespace

int main(int argc, char** argv)
try {
    using namespace examples;
    options opt;
    command_line cli("record", usage_text);
    cli.number("--seconds", opt.seconds, {.min = 0, .max = 24 * 3600, .exclusive_min = true});
    cli.text("--device", opt.device);
    cli.whole("--channels", opt.channels, 1, 256);
    cli.number("--rate", opt.rate, {.min = 1000, .max = 1e6});
    cli.whole("--bits", opt.bits, 16, 32);
    cli.flag("--float", opt.float_samples);
    cli.stall_timeout(opt.stall_timeout);
    cli.operand("FILE", opt.path, true);
    cli.parse(argc, argv);
    if (opt.bits && *opt.bits != 16 && *opt.bits != 24 && *opt.bits != 32)
        cli.usage_error("--bits must be 16, 24 or 32");
    if (opt.bits && opt.float_samples) cli.usage_error("--bits and --float exclude each other");
    const std::string& path = *opt.path;

    // The file's format: the type from its name, the encoding from the
    // options. Checked before any device is touched, and again with the
    // device's rate and channels.
    auto format_for = [&](int channels, double rate) {
        std::error_code ec;
        int format = coaudio::file_format_for(path, channels, rate, ec);
        if (!ec && (opt.bits || opt.float_samples)) {
            SF_INFO check{};
            check.samplerate = static_cast<int>(std::lround(rate));
            check.channels = channels;
            check.format = (format & SF_FORMAT_TYPEMASK) | (opt.float_samples ? SF_FORMAT_FLOAT
                                                            : *opt.bits == 16 ? SF_FORMAT_PCM_16
                                                            : *opt.bits == 24 ? SF_FORMAT_PCM_24
                                                                              : SF_FORMAT_PCM_32);
            if (sf_format_check(&check))
                format = check.format;
            else
                ec = std::make_error_code(std::errc::not_supported);
        }
        if (ec) cli.usage_error("cannot write " + path + " in that format: " + ec.message());
        return format;
    };
    format_for(opt.channels.value_or(2), opt.rate > 0 ? opt.rate : 48000);

    auto library = open_library(cli);
    const auto dev = require_device(cli, opt.device, coaudio::device_kind::input);
    const int channels = opt.channels.value_or(std::min(dev.max_input_channels, 2));

    // The stream first: a device that refuses the settings leaves no file behind.
    asio::io_context io(1);
    coaudio::input_stream in(io);
    std::error_code ec;
    {
        quiet_stderr quiet(!cli.verbose());
        coaudio::stream_config cfg{.device = dev.index,
                                   .channels = channels,
                                   .format = coaudio::sample_format::float32,
                                   .sample_rate = opt.rate,
                                   .latency = coaudio::latency_hint::high(),
                                   .stall_timeout = opt.stall_timeout};
        in.open(cfg, ec);
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
        // The device runs at its own rate; async_record_file converts to --rate.
        if (ec == coaudio::errc::invalid_sample_rate) {
            cfg.sample_rate = 0;
            in.open(cfg, ec);
        }
#endif
    }
    if (ec) {
        std::fprintf(stderr, "record: cannot open device %d (%s, %s) with %d channel%s: %s\n",
                     dev.index, dev.name.c_str(), dev.host_api_name.c_str(), channels,
                     channels == 1 ? "" : "s", ec.message().c_str());
        return exit_no_device;
    }
    // The file's rate: the one asked for, which the device may not run at.
    const double rate = opt.rate > 0 ? opt.rate : in.sample_rate();

    const int format = format_for(channels, rate);

    auto file = coaudio::sound_file::create(path, rate, channels, format, ec);
    if (ec) {
        std::fprintf(stderr, "record: cannot create %s: %s\n", path.c_str(), ec.message().c_str());
        return exit_failed;
    }
    // libsndfile rewrites the header after every write: a killed recording
    // is not an empty one.
    sf_command(file.native_handle(), SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);

    const auto frames = static_cast<std::uint64_t>(std::llround(opt.seconds * rate));
    // A signal cancels the recording, which keeps what it has.
    signal_stop stop(io);

    std::printf("record: %g s from device %d (%s, %s), %.0f Hz, %d channel%s, %s, to %s\n",
                opt.seconds, dev.index, dev.name.c_str(), dev.host_api_name.c_str(), rate, channels,
                channels == 1 ? "" : "s", file.format_name().c_str(), path.c_str());
    std::fflush(stdout);

    int status = exit_ok;
    std::uint64_t written = 0;
    coaudio::async_record_file(
        in, file, frames,
        asio::bind_cancellation_slot(stop.slot(), [&](coaudio::error_code e, std::uint64_t n) {
            stop.done();
            written = n;
            if (!e || (stop.stopped() && e == asio::error::operation_aborted)) return;
            std::fprintf(stderr, "record: recording to %s: %s\n", path.c_str(),
                         e.message().c_str());
            status = exit_failed;
        }));
    io.run();
    file.close(ec);
    if (ec) {
        std::fprintf(stderr, "record: cannot finish %s: %s\n", path.c_str(), ec.message().c_str());
        status = exit_failed;
    }
    if (status == exit_ok)
        std::printf("record: wrote %llu frames (%.3f s) to %s%s\n",
                    static_cast<unsigned long long>(written), double(written) / rate, path.c_str(),
                    stop.stopped() ? "; stopped early" : "");
    return finish("record", status);
} catch (const std::exception& e) {
    std::fprintf(stderr, "record: %s\n", e.what());
    return examples::exit_failed;
}
