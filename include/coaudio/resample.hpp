// coaudio: sample-rate conversion of interleaved float frames through libsoxr.
//
// Optional: needs libsoxr (Debian: libsoxr-dev). With CMake, link
// coaudio::soxr, which exists when libsoxr was found; it defines
// COAUDIO_HAS_SOXR=1, and with it the one-shot operations (coaudio/oneshot.hpp)
// and the file operations (coaudio/sndfile.hpp) convert between the rate asked
// for and the rate the device runs at. coaudio/coaudio.hpp does not include
// this header. Every translation unit of a program must agree on
// COAUDIO_HAS_SOXR (linking the target sees to it).
//
// The conversion runs where it is called: in the one-shot and file operations
// that is the io_context's thread, never the audio callback.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_RESAMPLE_HPP
#define COAUDIO_RESAMPLE_HPP

#if !__has_include(<soxr.h>)
#  error "coaudio/resample.hpp needs libsoxr (Debian: libsoxr-dev); with CMake, link coaudio::soxr"
#endif

#include <soxr.h>

#include <coaudio/config.hpp>
#include <coaudio/error.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// libsoxr's quality recipes, from fastest to best. `high` (20-bit
/// precision, soxr's SOXR_HQ) is the default; `very_high` is 28-bit.
enum class resample_quality : unsigned long {
    quick = SOXR_QQ,
    low = SOXR_LQ,
    medium = SOXR_MQ,
    high = SOXR_HQ,
    very_high = SOXR_VHQ,
};

/// A streaming converter of interleaved float32 frames from one sample rate to
/// another, owning one `soxr_t`. Move-only. Not thread-safe: one thread at a
/// time, and never the audio callback (it may allocate).
///
/// Timing: libsoxr compensates its filter's delay, so output frame k stands
/// for the instant of input frame k * in_rate / out_rate; the first frames it
/// hands out are late by the filter (`delay()` says how many are held back),
/// and `flush()` returns them at the end.
class resampler {
public:
    /// An empty resampler: `is_open()` is false until `open`.
    resampler() noexcept = default;

    /// Opens a converter from `in_rate` to `out_rate` for `channels`
    /// interleaved channels. Throws `std::system_error`:
    /// `errc::invalid_sample_rate` for a rate that is not positive and finite,
    /// `errc::invalid_channels` for fewer than one channel,
    /// `std::errc::invalid_argument` when libsoxr refuses.
    resampler(double in_rate, double out_rate, int channels,
              resample_quality quality = resample_quality::high)
    {
        std::error_code ec;
        open(in_rate, out_rate, channels, quality, ec);
        if (ec) throw std::system_error(ec, "coaudio: resampler");
    }

    resampler(resampler&& other) noexcept
        : soxr_(std::exchange(other.soxr_, nullptr)), in_rate_(other.in_rate_),
          out_rate_(other.out_rate_), channels_(other.channels_)
    {
    }

    resampler& operator=(resampler&& other) noexcept
    {
        if (this != &other) {
            close();
            soxr_ = std::exchange(other.soxr_, nullptr);
            in_rate_ = other.in_rate_;
            out_rate_ = other.out_rate_;
            channels_ = other.channels_;
        }
        return *this;
    }

    resampler(const resampler&) = delete;
    resampler& operator=(const resampler&) = delete;

    ~resampler() { close(); }

    /// As the constructor, reporting through `ec`; an open converter is
    /// closed first.
    void open(double in_rate, double out_rate, int channels, resample_quality quality,
              std::error_code& ec) noexcept
    {
        close();
        ec.clear();
        if (!valid_rate(in_rate) || !valid_rate(out_rate)) {
            ec = make_error_code(errc::invalid_sample_rate);
            return;
        }
        if (channels < 1) {
            ec = make_error_code(errc::invalid_channels);
            return;
        }
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        const soxr_quality_spec_t q = soxr_quality_spec(static_cast<unsigned long>(quality), 0);
        // One thread: the conversion runs on the caller's thread, nowhere else.
        const soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        soxr_error_t error = nullptr;
        soxr_ =
            soxr_create(in_rate, out_rate, static_cast<unsigned>(channels), &error, &io, &q, &rt);
        if (error != nullptr || soxr_ == nullptr) {
            close();
            ec = std::make_error_code(std::errc::invalid_argument);
            return;
        }
        in_rate_ = in_rate;
        out_rate_ = out_rate;
        channels_ = channels;
    }

    /// Frees the converter; safe on an empty one.
    void close() noexcept
    {
        if (soxr_ != nullptr) soxr_delete(soxr_);
        soxr_ = nullptr;
    }

    bool is_open() const noexcept { return soxr_ != nullptr; }
    double input_rate() const noexcept { return in_rate_; }
    double output_rate() const noexcept { return out_rate_; }
    int channels() const noexcept { return channels_; }
    /// Output frames per input frame.
    double ratio() const noexcept { return out_rate_ / in_rate_; }

    /// Converts as much of `in` as fits into `out` (both interleaved, whole
    /// frames). Returns the frames written to `out`; `consumed` is set to the
    /// frames of `in` taken. Some input is held back in the filter: call again
    /// with more input, or `flush()` at the end. An empty `in` does nothing. Errors:
    /// `errc::not_open`, `errc::not_whole_frames`, `std::errc::invalid_argument` (libsoxr).
    std::size_t process(std::span<const float> in, std::span<float> out, std::size_t& consumed,
                        std::error_code& ec) noexcept
    {
        consumed = 0;
        if (auto e = check(in.size(), out.size())) {
            ec = e;
            return 0;
        }
        // libsoxr reads a null input as the end of the signal: an empty span
        // (whose data may be null) must not flush.
        if (in.empty()) {
            ec.clear();
            return 0;
        }
        return run(in.data(), in.size() / frame(), out, consumed, ec);
    }

    /// As above; throws `std::system_error`.
    std::size_t process(std::span<const float> in, std::span<float> out, std::size_t& consumed)
    {
        std::error_code ec;
        const std::size_t n = process(in, out, consumed, ec);
        if (ec) throw std::system_error(ec, "coaudio: resampler::process");
        return n;
    }

    /// After the last input: writes what the filter still holds into `out`.
    /// Returns the frames written; 0 when all is out. Then `clear()` makes the
    /// converter ready for a new signal.
    std::size_t flush(std::span<float> out, std::error_code& ec) noexcept
    {
        std::size_t consumed = 0;
        if (auto e = check(0, out.size())) {
            ec = e;
            return 0;
        }
        return run(nullptr, 0, out, consumed, ec);
    }

    std::size_t flush(std::span<float> out)
    {
        std::error_code ec;
        const std::size_t n = flush(out, ec);
        if (ec) throw std::system_error(ec, "coaudio: resampler::flush");
        return n;
    }

    /// Forgets the signal so far, keeping the rates and channels.
    void clear() noexcept
    {
        if (soxr_ != nullptr) soxr_clear(soxr_);
    }

    /// Output frames the filter holds back at this point.
    double delay() const noexcept { return soxr_ != nullptr ? soxr_delay(soxr_) : 0.0; }

private:
    static bool valid_rate(double r) noexcept { return std::isfinite(r) && r > 0; }
    std::size_t frame() const noexcept { return static_cast<std::size_t>(channels_); }

    std::error_code check(std::size_t in_samples, std::size_t out_samples) const noexcept
    {
        if (soxr_ == nullptr) return make_error_code(errc::not_open);
        if (in_samples % frame() != 0 || out_samples % frame() != 0)
            return make_error_code(errc::not_whole_frames);
        return {};
    }

    std::size_t run(const float* in, std::size_t in_frames, std::span<float> out,
                    std::size_t& consumed, std::error_code& ec) noexcept
    {
        std::size_t done_in = 0;
        std::size_t done_out = 0;
        const soxr_error_t error = soxr_process(soxr_, in, in_frames, &done_in, out.data(),
                                                out.size() / frame(), &done_out);
        if (error != nullptr) {
            ec = std::make_error_code(std::errc::invalid_argument);
            return 0;
        }
        ec.clear();
        consumed = done_in;
        return done_out;
    }

    soxr_t soxr_ = nullptr;
    double in_rate_ = 0;
    double out_rate_ = 0;
    int channels_ = 0;
};

/// The frames a whole signal of `frames` frames becomes at `ratio` output
/// frames per input frame.
inline std::size_t resampled_frames(std::size_t frames, double ratio) noexcept
{
    return static_cast<std::size_t>(std::llround(static_cast<double>(frames) * ratio));
}

/// Converts a whole signal (interleaved, `channels` channels) from `in_rate`
/// to `out_rate`: exactly `resampled_frames(frames, out_rate / in_rate)`
/// frames, the filter flushed. Errors as `resampler::open` and
/// `errc::not_whole_frames`.
inline std::vector<float> resample(std::span<const float> in, double in_rate, double out_rate,
                                   int channels, resample_quality quality, std::error_code& ec)
{
    std::vector<float> out;
    resampler r;
    r.open(in_rate, out_rate, channels, quality, ec);
    if (ec) return out;
    const auto ch = static_cast<std::size_t>(channels);
    if (in.size() % ch != 0) {
        ec = make_error_code(errc::not_whole_frames);
        return out;
    }
    const std::size_t want = resampled_frames(in.size() / ch, r.ratio());
    out.resize(want * ch);
    std::size_t done = 0;
    while (!in.empty() && done < want) {
        std::size_t used = 0;
        done += r.process(in, std::span(out).subspan(done * ch), used, ec);
        if (ec) return {};
        in = in.subspan(used * ch);
        if (used == 0) break; // the output is full
    }
    while (done < want) {
        const std::size_t n = r.flush(std::span(out).subspan(done * ch), ec);
        if (ec) return {};
        if (n == 0) break;
        done += n;
    }
    out.resize(done * ch); // libsoxr hands out exactly `want`; never more than asked
    return out;
}

/// As above, `resample_quality::high`; throws `std::system_error`.
inline std::vector<float> resample(std::span<const float> in, double in_rate, double out_rate,
                                   int channels)
{
    std::error_code ec;
    auto out = resample(in, in_rate, out_rate, channels, resample_quality::high, ec);
    if (ec) throw std::system_error(ec, "coaudio: resample");
    return out;
}

} // namespace coaudio

#endif
