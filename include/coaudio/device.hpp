// coaudio: audio devices and host APIs.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DEVICE_HPP
#define COAUDIO_DEVICE_HPP

#include <coaudio/error.hpp>
#include <coaudio/library.hpp>

#include <portaudio.h>

#include <optional>
#include <string>
#include <vector>

namespace coaudio {

/// A PortAudio device, as a value.
struct device_info {
    int index = -1;
    std::string name;
    int host_api = -1;
    std::string host_api_name;
    int max_input_channels = 0;
    int max_output_channels = 0;
    double default_sample_rate = 0;
    double default_low_input_latency = 0;
    double default_high_input_latency = 0;
    double default_low_output_latency = 0;
    double default_high_output_latency = 0;
};

namespace detail {

// Device queries need PortAudio initialised; a temporary reference keeps
// them working whether or not the caller holds a `library`.
class scoped_library {
public:
    scoped_library() : ec_(acquire_library()) {}
    ~scoped_library()
    {
        if (!ec_) release_library();
    }
    scoped_library(const scoped_library&) = delete;
    scoped_library& operator=(const scoped_library&) = delete;
    const std::error_code& error() const noexcept { return ec_; }

private:
    std::error_code ec_;
};

inline device_info make_device_info(int index, const PaDeviceInfo& d)
{
    device_info info;
    info.index = index;
    info.name = d.name != nullptr ? d.name : "";
    info.host_api = d.hostApi;
    if (const PaHostApiInfo* api = Pa_GetHostApiInfo(d.hostApi); api != nullptr && api->name != nullptr)
        info.host_api_name = api->name;
    info.max_input_channels = d.maxInputChannels;
    info.max_output_channels = d.maxOutputChannels;
    info.default_sample_rate = d.defaultSampleRate;
    info.default_low_input_latency = d.defaultLowInputLatency;
    info.default_high_input_latency = d.defaultHighInputLatency;
    info.default_low_output_latency = d.defaultLowOutputLatency;
    info.default_high_output_latency = d.defaultHighOutputLatency;
    return info;
}

inline std::optional<device_info> lookup_device(int index, std::error_code& ec)
{
    scoped_library lib;
    if ((ec = lib.error())) return std::nullopt;
    if (index < 0 || index >= Pa_GetDeviceCount()) {
        ec = make_error_code(errc::device_not_found);
        return std::nullopt;
    }
    const PaDeviceInfo* d = Pa_GetDeviceInfo(index);
    if (d == nullptr) {
        ec = make_error_code(errc::device_not_found);
        return std::nullopt;
    }
    return make_device_info(index, *d);
}

inline std::optional<device_info> default_device(bool input, std::error_code& ec)
{
    scoped_library lib;
    if ((ec = lib.error())) return std::nullopt;
    const PaDeviceIndex i = input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
    if (i == paNoDevice) return std::nullopt;
    return lookup_device(i, ec);
}

} // namespace detail

/// Every device of every host API, in PortAudio's index order.
inline std::vector<device_info> devices(std::error_code& ec)
{
    detail::scoped_library lib;
    std::vector<device_info> out;
    if ((ec = lib.error())) return out;
    const PaDeviceIndex n = Pa_GetDeviceCount();
    if (n < 0) {
        ec = detail::pa_error(n);
        return out;
    }
    for (PaDeviceIndex i = 0; i < n; ++i)
        if (const PaDeviceInfo* d = Pa_GetDeviceInfo(i)) out.push_back(detail::make_device_info(i, *d));
    return out;
}
inline std::vector<device_info> devices()
{
    std::error_code ec;
    auto out = devices(ec);
    detail::throw_if(ec, "coaudio: devices");
    return out;
}

/// The device with PortAudio index `index`; `errc::device_not_found` if none.
inline device_info device(int index, std::error_code& ec)
{
    return detail::lookup_device(index, ec).value_or(device_info{});
}
inline device_info device(int index)
{
    std::error_code ec;
    auto d = device(index, ec);
    detail::throw_if(ec, "coaudio: device");
    return d;
}

/// The host's default capture device, or nothing when it has none.
inline std::optional<device_info> default_input_device(std::error_code& ec) { return detail::default_device(true, ec); }
inline std::optional<device_info> default_input_device()
{
    std::error_code ec;
    auto d = default_input_device(ec);
    detail::throw_if(ec, "coaudio: default_input_device");
    return d;
}

/// The host's default playback device, or nothing when it has none.
inline std::optional<device_info> default_output_device(std::error_code& ec) { return detail::default_device(false, ec); }
inline std::optional<device_info> default_output_device()
{
    std::error_code ec;
    auto d = default_output_device(ec);
    detail::throw_if(ec, "coaudio: default_output_device");
    return d;
}

} // namespace coaudio

#endif
