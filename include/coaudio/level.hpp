// coaudio: signal level helpers shared by meters and tests.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_LEVEL_HPP
#define COAUDIO_LEVEL_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

namespace coaudio {

/// Root mean square of a block of float samples (full scale = 1.0); 0 for an empty block.
inline double rms(std::span<const float> samples) noexcept
{
    if (samples.empty()) return 0.0;
    double sum = 0.0;
    for (float s : samples) sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(samples.size()));
}

/// Largest absolute sample value.
inline double peak(std::span<const float> samples) noexcept
{
    double p = 0.0;
    for (float s : samples) p = std::max(p, static_cast<double>(std::fabs(s)));
    return p;
}

/// A linear level relative to full scale, in dB; -infinity for silence.
inline double to_dbfs(double level) noexcept
{
    return level > 0.0 ? 20.0 * std::log10(level) : -std::numeric_limits<double>::infinity();
}

inline double rms_dbfs(std::span<const float> samples) noexcept { return to_dbfs(rms(samples)); }
inline double peak_dbfs(std::span<const float> samples) noexcept { return to_dbfs(peak(samples)); }

} // namespace coaudio

#endif
