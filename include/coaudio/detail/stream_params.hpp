// coaudio: what one direction of a stream is opened with, once resolved.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_PARAMS_HPP
#define COAUDIO_DETAIL_STREAM_PARAMS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/error.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

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
    /// The device channel (from 0) of each of the stream's channels; empty
    /// when they are the device's first ones (`mapped == 0`).
    std::array<std::uint16_t, max_mapped_channels> mapping{};
    std::size_t mapped = 0;
    /// With a mapping, the highest device channel it names (from 1).
    int highest_mapped = 0;

    /// Channels the device is opened with: `channels`, or with a mapping the
    /// highest device channel it names.
    int device_channels() const noexcept { return mapped == 0 ? channels : highest_mapped; }

    std::size_t frame_bytes() const noexcept
    {
        return sample_bytes(format) * static_cast<std::size_t>(channels);
    }
    /// Bytes of one frame in the device's buffers.
    std::size_t device_frame_bytes() const noexcept
    {
        return sample_bytes(format) * static_cast<std::size_t>(device_channels());
    }
};

/// Settles `p.channels`, `p.mapping` and `p.highest_mapped` from `cfg`, for
/// a device with `max_channels` channels in this direction (`dir` names it
/// in messages). On failure `why` names the bad value and the limit.
inline std::error_code resolve_channels(const stream_config& cfg, int max_channels, const char* dir,
                                        const std::string& device, stream_params& p,
                                        std::string& why)
{
    const auto has = [&] {
        return "device " + device + " has " + std::to_string(max_channels) + " " +
               std::string(dir) + (*dir != '\0' ? " " : "") + "channel" +
               (max_channels == 1 ? "" : "s");
    };
    p.mapped = 0;
    if (cfg.mapping.empty()) {
        if (cfg.channels <= 0 || cfg.channels > max_channels) {
            why = "invalid channel count " + std::to_string(cfg.channels) + ": " + has();
            return make_error_code(errc::invalid_channels);
        }
        p.channels = cfg.channels;
        return {};
    }
    std::string listed;
    for (int c : cfg.mapping)
        listed += (listed.empty() ? "" : ", ") + std::to_string(c);
    listed = "mapping {" + listed + "}";
    const int size = static_cast<int>(cfg.mapping.size());
    if (cfg.mapping.size() > max_mapped_channels) {
        why =
            "invalid " + listed + ": at most " + std::to_string(max_mapped_channels) + " channels";
        return make_error_code(errc::invalid_channels);
    }
    if (cfg.channels != 1 && cfg.channels != size) {
        why = "invalid " + listed + ": it names " + std::to_string(size) +
              " channels, and channels is " + std::to_string(cfg.channels);
        return make_error_code(errc::invalid_channels);
    }
    int highest = 0;
    for (std::size_t i = 0; i < cfg.mapping.size(); ++i) {
        const int c = cfg.mapping[i];
        if (c < 1 || c > max_channels) {
            why = "invalid " + listed + ": channel " + std::to_string(c) + " is not from 1 to " +
                  std::to_string(max_channels) + " (" + has() + ")";
            return make_error_code(errc::invalid_channels);
        }
        if (std::find(cfg.mapping.begin(), cfg.mapping.begin() + static_cast<std::ptrdiff_t>(i),
                      c) != cfg.mapping.begin() + static_cast<std::ptrdiff_t>(i)) {
            why = "invalid " + listed + ": channel " + std::to_string(c) + " is named twice";
            return make_error_code(errc::invalid_channels);
        }
        p.mapping[i] = static_cast<std::uint16_t>(c - 1);
        highest = std::max(highest, c);
    }
    p.channels = size;
    p.highest_mapped = highest;
    p.mapped = cfg.mapping.size();
    return {};
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
