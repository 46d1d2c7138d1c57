// coaudio: signal level helpers shared by meters and tests.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_LEVEL_HPP
#define COAUDIO_LEVEL_HPP

#include <coaudio/detail/namespace.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Root mean square of a block of float samples (full scale = 1.0); 0 for an empty block.
inline double rms(std::span<const float> samples) noexcept
{
    if (samples.empty()) return 0.0;
    double sum = 0.0;
    for (float s : samples)
        sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(samples.size()));
}

/// Largest absolute sample value.
inline double peak(std::span<const float> samples) noexcept
{
    double p = 0.0;
    for (float s : samples)
        p = std::max(p, static_cast<double>(std::fabs(s)));
    return p;
}

/// A linear level relative to full scale, in dB; -infinity for silence.
inline double to_dbfs(double level) noexcept
{
    return level > 0.0 ? 20.0 * std::log10(level) : -std::numeric_limits<double>::infinity();
}

/// The linear level of a dBFS value: the inverse of `to_dbfs` (0 for -infinity).
inline double from_dbfs(double dbfs) noexcept
{
    return std::pow(10.0, dbfs / 20.0);
}

inline double rms_dbfs(std::span<const float> samples) noexcept
{
    return to_dbfs(rms(samples));
}
inline double peak_dbfs(std::span<const float> samples) noexcept
{
    return to_dbfs(peak(samples));
}

/// The peak level at or above which a meter calls a signal clipped. A float
/// stream can exceed full scale, but a converter, an int16 file or the next
/// stage usually cannot; -0.1 dBFS leaves room for an inter-sample peak.
inline constexpr double clip_dbfs = -0.1;

/// True when a peak of `peak_dbfs` counts as clipping (at or above `clip_dbfs`).
inline bool is_clipping(double peak_dbfs) noexcept
{
    return peak_dbfs >= clip_dbfs;
}

/// Per-channel RMS and peak of interleaved float frames, summed over any
/// number of blocks until `reset()`.
///
/// A meter reads blocks of whatever size the host delivers but redraws on a
/// clock of its own: it adds every block as it arrives and, on each tick,
/// reads the levels of everything since the previous tick and resets.
/// Allocates only in the constructor.
class level_accumulator {
public:
    /// Throws `std::invalid_argument` unless `channels` is at least 1.
    explicit level_accumulator(int channels)
        : channels_(channels > 0 ? static_cast<std::size_t>(channels)
                                 : throw std::invalid_argument(
                                       "coaudio::level_accumulator: channels must be >= 1")),
          sum_squares_(channels_, 0.0), peak_(channels_, 0.0)
    {
    }

    int channels() const noexcept { return static_cast<int>(channels_); }

    /// Adds interleaved frames (`channels()` samples each). A trailing partial
    /// frame is ignored, so that no channel's samples land in another's sums.
    void add(std::span<const float> interleaved) noexcept
    {
        const std::size_t n = interleaved.size() / channels_;
        const float* s = interleaved.data();
        for (std::size_t f = 0; f < n; ++f) {
            for (std::size_t c = 0; c < channels_; ++c, ++s) {
                const double v = *s;
                sum_squares_[c] += v * v;
                peak_[c] = std::max(peak_[c], std::fabs(v));
            }
        }
        frames_ += n;
    }

    /// Frames added since the last reset.
    std::size_t frames() const noexcept { return frames_; }

    /// RMS of channel `channel` (0-based) over the frames added; 0 when none
    /// were added or `channel` is out of range.
    double rms(int channel) const noexcept
    {
        if (frames_ == 0 || !valid(channel)) return 0.0;
        return std::sqrt(sum_squares_[static_cast<std::size_t>(channel)] /
                         static_cast<double>(frames_));
    }

    /// Largest absolute sample of channel `channel`; 0 as for `rms`.
    double peak(int channel) const noexcept
    {
        return valid(channel) ? peak_[static_cast<std::size_t>(channel)] : 0.0;
    }

    double rms_dbfs(int channel) const noexcept { return to_dbfs(rms(channel)); }
    double peak_dbfs(int channel) const noexcept { return to_dbfs(peak(channel)); }

    /// Forgets every frame added so far.
    void reset() noexcept
    {
        std::fill(sum_squares_.begin(), sum_squares_.end(), 0.0);
        std::fill(peak_.begin(), peak_.end(), 0.0);
        frames_ = 0;
    }

private:
    bool valid(int channel) const noexcept
    {
        return channel >= 0 && static_cast<std::size_t>(channel) < channels_;
    }

    std::size_t channels_;
    std::vector<double> sum_squares_;
    std::vector<double> peak_;
    std::size_t frames_ = 0;
};

/// A peak-hold indicator, in dBFS: it jumps to any higher peak at once,
/// holds it for `hold` time, then falls at `decay_db_per_second` until a
/// peak at or above the falling value catches it again.
///
/// Time comes from the caller (`update`'s `elapsed`), so it follows a redraw
/// timer, a sample count or a test's fake clock alike. A value that has
/// fallen below `floor_dbfs` becomes -infinity (silence), so a meter fed
/// silence shows silence and not an ever-falling number.
class peak_hold {
public:
    using seconds = std::chrono::duration<double>;

    /// Values that have decayed below this become -infinity.
    static constexpr double floor_dbfs = -120.0;

    explicit peak_hold(seconds hold = seconds(1.5), double decay_db_per_second = 15.0) noexcept
        : hold_(std::max(hold.count(), 0.0)), decay_(std::max(decay_db_per_second, 0.0))
    {
    }

    /// Advances the clock by `elapsed` (negative counts as none), then takes
    /// in `peak_dbfs`, the peak since the previous update. Returns the held value.
    double update(double peak_dbfs, seconds elapsed) noexcept
    {
        const double dt = elapsed.count() > 0.0 ? elapsed.count() : 0.0;
        if (value_ != minus_infinity) {
            // Only the part of this step that lies past the hold time decays.
            const double decaying = std::max(0.0, age_ + dt - std::max(age_, hold_));
            age_ += dt;
            value_ -= decay_ * decaying;
            if (value_ < floor_dbfs) value_ = minus_infinity;
        }
        if (peak_dbfs >= value_ && !std::isnan(peak_dbfs)) {
            value_ = peak_dbfs;
            age_ = 0.0;
        }
        return value_;
    }

    /// The held value in dBFS; -infinity before any peak and after `reset()`.
    double value() const noexcept { return value_; }

    /// Seconds since the held value was last caught.
    double age() const noexcept { return age_; }

    void reset() noexcept
    {
        value_ = minus_infinity;
        age_ = 0.0;
    }

private:
    static constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

    double hold_;
    double decay_;
    double value_ = minus_infinity;
    double age_ = 0.0;
};

} // namespace coaudio

#endif
