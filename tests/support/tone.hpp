// Test support: sine tones, and the frequency of one that came back.
#ifndef COAUDIO_TESTS_SUPPORT_TONE_HPP
#define COAUDIO_TESTS_SUPPORT_TONE_HPP

#include <cmath>
#include <cstddef>
#include <numbers>
#include <optional>
#include <span>
#include <vector>

namespace test {

/// `frames` of a sine at `freq` Hz and `amplitude`, starting at phase index `start`.
inline std::vector<float> sine(std::size_t frames, double freq, double amplitude, double rate,
                               std::size_t start = 0)
{
    std::vector<float> out(frames);
    for (std::size_t i = 0; i < frames; ++i)
        out[i] = static_cast<float>(
            amplitude * std::sin(2.0 * std::numbers::pi * freq * double(start + i) / rate));
    return out;
}

/// Frequency estimated from rising and falling zero crossings.
inline double zero_crossing_frequency(std::span<const float> x, double rate)
{
    std::size_t crossings = 0;
    std::optional<std::size_t> first, last;
    for (std::size_t i = 1; i < x.size(); ++i) {
        if ((x[i - 1] < 0.0f) != (x[i] < 0.0f)) {
            ++crossings;
            if (!first) first = i;
            last = i;
        }
    }
    if (crossings < 2) return 0.0;
    // Two crossings per period, measured between the first and the last.
    return double(crossings - 1) / 2.0 / (double(*last - *first) / rate);
}

/// Frequency from the rising zero crossings, each placed between its two
/// samples by linear interpolation: within 0.01 Hz on a clean sine of a
/// second, where counting whole samples is off by up to a sample a period.
inline double interpolated_frequency(std::span<const float> x, double rate)
{
    double first = -1, last = -1;
    std::size_t periods = 0;
    for (std::size_t i = 1; i < x.size(); ++i) {
        if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
            const double t = double(i - 1) + double(x[i - 1]) / double(x[i - 1] - x[i]);
            if (first < 0)
                first = t;
            else
                ++periods;
            last = t;
        }
    }
    return periods == 0 ? 0.0 : double(periods) * rate / (last - first);
}

} // namespace test

#endif
