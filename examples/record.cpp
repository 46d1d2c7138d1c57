// Records N seconds from a capture device into a WAV file.
//
//   record [--seconds S] [--device NAME|INDEX] [--channels N] [--rate HZ]
//          [--float] FILE.wav
//
// A coroutine reads whole blocks with async_read_frames, in the stream's own
// sample type (int16 by default, float32 with --float), and appends them to
// the file. Frames lost before a block (the reader fell behind, or the host
// reported an overflow) are written as silence, so the file keeps time.
// Ctrl-C or SIGTERM ends the recording early; the file is still valid.
#include <coaudio/coaudio.hpp>

#include <asio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "device_arg.hpp"
#include "quiet_stderr.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_no_device = 2;
constexpr int exit_usage = 64;

constexpr const char* usage_text = R"(usage: record [options] FILE.wav

Records from a capture device into a WAV file.

  --seconds S         how long to record (default 5); Ctrl-C stops early
  --device NAME|INDEX capture device: an index from `meter --list`, or part
                      of a name (case-insensitive); default: the host's default
  --channels N        channels (default: the device's, at most 2)
  --rate HZ           sample rate (default: the device's default rate)
  --float             32-bit float samples (default: 16-bit PCM)
  --help              show this text

Exit status: 0 when the file is written, 1 when capture or writing fails,
2 when no capture device can be opened, 64 on a bad command line.
)";

struct options {
    double seconds = 5;
    std::optional<std::string> device;
    std::optional<int> channels;
    double rate = 0;
    bool float_samples = false;
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
        if (!arg.starts_with("--")) {
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
            opt.float_samples = true;
        else if (arg == "--seconds") {
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

// ---- WAV ----------------------------------------------------------------------------
//
// RIFF/WAVE with a PCM (format 1, 16-bit) or IEEE float (format 3, 32-bit)
// fmt chunk. The sizes are written as zero first and filled in by finish(),
// so a recording can stream to disk at any length up to 4 GiB.

class wav_writer {
public:
    wav_writer(const std::string& path, int channels, double rate, bool is_float)
        : file_(std::fopen(path.c_str(), "wb")), channels_(static_cast<std::uint32_t>(channels)),
          sample_bytes_(is_float ? 4u : 2u), is_float_(is_float)
    {
        if (file_ == nullptr)
            throw std::system_error(errno, std::generic_category(),
                                    "record: cannot create " + path);
        const auto rate_hz = static_cast<std::uint32_t>(std::lround(rate));
        const std::uint32_t block_align = channels_ * sample_bytes_;
        put("RIFF");
        put32(0); // patched
        put("WAVE");
        put("fmt ");
        put32(is_float_ ? 18 : 16);
        put16(is_float_ ? 3 : 1);
        put16(static_cast<std::uint16_t>(channels_));
        put32(rate_hz);
        put32(rate_hz * block_align);
        put16(static_cast<std::uint16_t>(block_align));
        put16(static_cast<std::uint16_t>(sample_bytes_ * 8));
        if (is_float_) {
            put16(0);    // cbSize
            put("fact"); // required beside non-PCM formats: the frame count
            put32(4);
            fact_at_ = std::ftell(file_);
            put32(0); // patched
        }
        put("data");
        data_size_at_ = std::ftell(file_);
        put32(0); // patched
        check();
    }
    wav_writer(const wav_writer&) = delete;
    wav_writer& operator=(const wav_writer&) = delete;
    ~wav_writer()
    {
        if (file_ != nullptr) std::fclose(file_);
    }

    /// Appends interleaved samples of the file's type.
    template <class T>
    void write(std::span<const T> samples)
    {
        static_assert(sizeof(T) == 2 || sizeof(T) == 4);
        if constexpr (std::endian::native == std::endian::little) {
            std::fwrite(samples.data(), sizeof(T), samples.size(), file_);
        } else {
            for (T s : samples) {
                auto bytes = std::bit_cast<std::array<unsigned char, sizeof(T)>>(s);
                std::reverse(bytes.begin(), bytes.end());
                std::fwrite(bytes.data(), 1, bytes.size(), file_);
            }
        }
        frames_ += samples.size() / channels_;
        check();
    }

    /// Appends `frames` frames of silence (zero is silence for both formats).
    void write_silence(std::uint64_t frames)
    {
        static const std::vector<unsigned char> zeros(64 * 1024);
        std::uint64_t bytes = frames * channels_ * sample_bytes_;
        while (bytes > 0) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, zeros.size()));
            std::fwrite(zeros.data(), 1, n, file_);
            bytes -= n;
        }
        frames_ += frames;
        check();
    }

    std::uint64_t frames() const noexcept { return frames_; }

    /// Fills in the sizes and closes the file.
    void finish()
    {
        const std::uint64_t data = frames_ * channels_ * sample_bytes_;
        const long end = std::ftell(file_);
        std::fseek(file_, 4, SEEK_SET);
        put32(static_cast<std::uint32_t>(end - 8));
        if (fact_at_ > 0) {
            std::fseek(file_, fact_at_, SEEK_SET);
            put32(static_cast<std::uint32_t>(frames_));
        }
        std::fseek(file_, data_size_at_, SEEK_SET);
        put32(static_cast<std::uint32_t>(data));
        check();
        const int rc = std::fclose(file_);
        file_ = nullptr;
        if (rc != 0)
            throw std::system_error(errno, std::generic_category(), "record: closing the file");
    }

private:
    void put(const char (&tag)[5]) { std::fwrite(tag, 1, 4, file_); }
    void put16(std::uint16_t v)
    {
        const unsigned char b[2] = {static_cast<unsigned char>(v),
                                    static_cast<unsigned char>(v >> 8)};
        std::fwrite(b, 1, 2, file_);
    }
    void put32(std::uint32_t v)
    {
        const unsigned char b[4] = {
            static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
            static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
        std::fwrite(b, 1, 4, file_);
    }
    void check()
    {
        if (std::ferror(file_))
            throw std::system_error(errno, std::generic_category(), "record: writing the file");
    }

    std::FILE* file_;
    std::uint32_t channels_;
    std::uint32_t sample_bytes_;
    bool is_float_;
    long fact_at_ = 0;
    long data_size_at_ = 0;
    std::uint64_t frames_ = 0;
};

struct totals {
    std::uint64_t lost = 0; // frames written as silence in place of lost input
};

// Reads `frames_wanted` frames in blocks of about 100 ms and writes them out.
template <class T>
asio::awaitable<void> record(coaudio::input_stream& in, wav_writer& wav,
                             std::uint64_t frames_wanted, const bool& stopping, totals& t)
{
    const auto channels = static_cast<std::size_t>(in.channels());
    const auto block_frames = static_cast<std::size_t>(std::max(in.sample_rate() / 10, 1.0));
    std::vector<T> block(block_frames * channels);
    while (wav.frames() < frames_wanted) {
        const auto want = static_cast<std::size_t>(
            std::min<std::uint64_t>(block_frames, frames_wanted - wav.frames()));
        auto [ec, frames] = co_await in.async_read_frames(std::span(block).first(want * channels),
                                                          coaudio::as_tuple(asio::use_awaitable));
        // Frames lost just before this block's data: keep the timeline.
        if (const auto lost = in.last_read().frames_lost; lost > 0) {
            const auto room = frames_wanted - wav.frames();
            wav.write_silence(std::min<std::uint64_t>(lost, room > frames ? room - frames : 0));
            t.lost += lost;
        }
        wav.write(std::span<const T>(block).first(frames * channels));
        if (stopping) co_return; // cancelled by a signal: what was read is kept
        if (ec) throw std::system_error(ec, "record: capture");
    }
}

} // namespace

int main(int argc, char** argv)
try {
    options opt;
    if (std::string error = parse(argc, argv, opt); !error.empty()) {
        std::fprintf(stderr, "record: %s\nTry 'record --help'.\n", error.c_str());
        return exit_usage;
    }
    if (opt.help) {
        std::fputs(usage_text, stdout);
        return exit_ok;
    }

    std::error_code ec;
    auto library = quiet_library(ec);
    if (ec) {
        std::fprintf(stderr, "record: cannot initialise PortAudio: %s\n", ec.message().c_str());
        return exit_no_device;
    }
    std::string problem;
    const auto dev = device_from_arg(opt.device, coaudio::device_kind::input, problem);
    if (!dev) {
        std::fprintf(stderr, "record: %s (see `meter --list`)\n", problem.c_str());
        return exit_no_device;
    }

    asio::io_context io(1);
    coaudio::input_stream in(io);
    in.open({.device = dev->index,
             .channels = opt.channels.value_or(std::min(dev->max_input_channels, 2)),
             .format = opt.float_samples ? coaudio::sample_format::float32
                                         : coaudio::sample_format::int16,
             .sample_rate = opt.rate},
            ec);
    if (!ec) in.start(ec);
    if (ec) {
        std::fprintf(stderr, "record: cannot open device %d (%s, %s): %s\n", dev->index,
                     dev->name.c_str(), dev->host_api_name.c_str(), ec.message().c_str());
        return exit_no_device;
    }

    const double rate = in.sample_rate();
    const auto frames_wanted = static_cast<std::uint64_t>(std::llround(opt.seconds * rate));
    const std::uint64_t bytes =
        frames_wanted * static_cast<std::uint64_t>(in.channels()) * (opt.float_samples ? 4 : 2);
    if (bytes > 0xFFFF'FFFFull - 64) {
        std::fprintf(stderr, "record: %g s would not fit in a WAV file (4 GiB at most)\n",
                     opt.seconds);
        return exit_usage;
    }
    wav_writer wav(opt.path, in.channels(), rate, opt.float_samples);
    std::printf("record: %g s from device %d (%s, %s), %.0f Hz, %d channel%s, %s, to %s\n",
                opt.seconds, dev->index, dev->name.c_str(), dev->host_api_name.c_str(), rate,
                in.channels(), in.channels() == 1 ? "" : "s",
                opt.float_samples ? "32-bit float" : "16-bit", opt.path.c_str());
    std::fflush(stdout);

    bool stopping = false;
    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    signals.async_wait([&](std::error_code e, int) {
        if (e) return;
        stopping = true;
        in.cancel(ec); // the pending read completes with the frames it has
    });

    totals t;
    int status = exit_ok;
    auto done = [&](std::exception_ptr e) {
        signals.cancel();
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "%s\n", x.what());
            status = exit_failed;
        }
    };
    if (opt.float_samples)
        asio::co_spawn(io, record<float>(in, wav, frames_wanted, stopping, t), done);
    else
        asio::co_spawn(io, record<std::int16_t>(in, wav, frames_wanted, stopping, t), done);
    io.run();
    in.close();

    wav.finish();
    std::printf(
        "record: wrote %llu frames (%.3f s) to %s; %llu frames lost and written as silence%s\n",
        static_cast<unsigned long long>(wav.frames()), double(wav.frames()) / rate,
        opt.path.c_str(), static_cast<unsigned long long>(t.lost),
        stopping ? "; stopped early" : "");
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "record: %s\n", e.what());
    return exit_failed;
}
