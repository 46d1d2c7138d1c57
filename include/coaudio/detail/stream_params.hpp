// coaudio: what one direction of a stream is opened with, once resolved.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_PARAMS_HPP
#define COAUDIO_DETAIL_STREAM_PARAMS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/sample_format.hpp>

#include <chrono>
#include <cstddef>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

enum class direction : unsigned char { input, output, duplex };

constexpr bool has_input(direction d) noexcept
{
    return d != direction::output;
}
constexpr bool has_output(direction d) noexcept
{
    return d != direction::input;
}

/// No audio path has a latency longer than this, in seconds; a host that
/// reports one is wrong.
inline constexpr double max_plausible_latency = 10.0;

/// The latency a host reports, unless it cannot be one: PortAudio's JACK
/// host under pipewire-jack reports 2^32 frames (a day), and the waits that
/// are bounded by the latency would then last a day. Such a figure is
/// replaced by `fallback`, the latency that was asked for.
constexpr double plausible_latency(double reported, double fallback) noexcept
{
    return reported >= 0 && reported <= max_plausible_latency ? reported
                                                              : fallback; // NaN fails both
}

/// The resolved parameters of one direction of an open stream.
struct stream_params {
    int device = -1;
    int channels = 1;
    sample_format format = sample_format::float32;
    double sample_rate = 0;
    /// Frames per callback. Once callbacks have run: the count the host
    /// passes, as the last callback saw it. Before that: the size asked for,
    /// 0 when the host was left to choose.
    unsigned long frames_per_block = 0;
    /// Seconds between the converter and the callback (input: ADC to
    /// callback; output: callback to DAC). What PortAudio granted at open;
    /// where that is 0 (PortAudio's JACK host leaves out the period in
    /// flight, and a dummy server adds nothing else), the delay the host's
    /// callback timestamps show, once callbacks have run. 0 means the host
    /// has reported no latency at all.
    double latency = 0;
    bool overflow_is_error = false;
    std::chrono::milliseconds stall_timeout{0};
    std::size_t frame_bytes() const noexcept
    {
        return sample_bytes(format) * static_cast<std::size_t>(channels);
    }
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
