// coaudio: audio devices and host APIs.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DEVICE_HPP
#define COAUDIO_DEVICE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/error.hpp>
#include <coaudio/library.hpp>

#include <portaudio.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A PortAudio host API (ALSA, JACK, PulseAudio, CoreAudio, WASAPI, ...), as a value.
struct host_api_info {
    int index = -1;
    std::string name;
    int device_count = 0;
    int default_input_device = -1;  ///< -1 when none
    int default_output_device = -1; ///< -1 when none
};

/// What a device must be able to do to match a lookup.
enum class device_kind { any, input, output };

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

inline device_info make_device_info(int index, const PaDeviceInfo& d)
{
    device_info info;
    info.index = index;
    info.name = d.name != nullptr ? d.name : "";
    info.host_api = d.hostApi;
    if (const PaHostApiInfo* api = Pa_GetHostApiInfo(d.hostApi);
        api != nullptr && api->name != nullptr)
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
    library_ref lib;
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
    library_ref lib;
    if ((ec = lib.error())) return std::nullopt;
    const PaDeviceIndex i = input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
    if (i == paNoDevice) return std::nullopt;
    return lookup_device(i, ec);
}

} // namespace detail

/// Every host API PortAudio was built with and found, in index order.
inline std::vector<host_api_info> host_apis(std::error_code& ec)
{
    detail::library_ref lib;
    std::vector<host_api_info> out;
    if ((ec = lib.error())) return out;
    const PaHostApiIndex n = Pa_GetHostApiCount();
    if (n < 0) {
        ec = detail::pa_error(n);
        return out;
    }
    for (PaHostApiIndex i = 0; i < n; ++i) {
        const PaHostApiInfo* a = Pa_GetHostApiInfo(i);
        if (a == nullptr) continue;
        host_api_info h;
        h.index = i;
        h.name = a->name != nullptr ? a->name : "";
        h.device_count = a->deviceCount;
        h.default_input_device = a->defaultInputDevice == paNoDevice ? -1 : a->defaultInputDevice;
        h.default_output_device =
            a->defaultOutputDevice == paNoDevice ? -1 : a->defaultOutputDevice;
        out.push_back(std::move(h));
    }
    return out;
}
inline std::vector<host_api_info> host_apis()
{
    std::error_code ec;
    auto out = host_apis(ec);
    detail::throw_if(ec, "coaudio: host_apis");
    return out;
}

/// PortAudio's default host API.
inline host_api_info default_host_api(std::error_code& ec)
{
    detail::library_ref lib;
    if ((ec = lib.error())) return {};
    const PaHostApiIndex i = Pa_GetDefaultHostApi();
    if (i < 0) {
        ec = detail::pa_error(i);
        return {};
    }
    for (auto& h : host_apis(ec))
        if (h.index == i) return h;
    return {};
}
inline host_api_info default_host_api()
{
    std::error_code ec;
    auto h = default_host_api(ec);
    detail::throw_if(ec, "coaudio: default_host_api");
    return h;
}

/// Every device of every host API, in PortAudio's index order.
inline std::vector<device_info> devices(std::error_code& ec)
{
    detail::library_ref lib;
    std::vector<device_info> out;
    if ((ec = lib.error())) return out;
    const PaDeviceIndex n = Pa_GetDeviceCount();
    if (n < 0) {
        ec = detail::pa_error(n);
        return out;
    }
    for (PaDeviceIndex i = 0; i < n; ++i)
        if (const PaDeviceInfo* d = Pa_GetDeviceInfo(i))
            out.push_back(detail::make_device_info(i, *d));
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
inline std::optional<device_info> default_input_device(std::error_code& ec)
{
    return detail::default_device(true, ec);
}
inline std::optional<device_info> default_input_device()
{
    std::error_code ec;
    auto d = default_input_device(ec);
    detail::throw_if(ec, "coaudio: default_input_device");
    return d;
}

/// The host's default playback device, or nothing when it has none.
inline std::optional<device_info> default_output_device(std::error_code& ec)
{
    return detail::default_device(false, ec);
}
inline std::optional<device_info> default_output_device()
{
    std::error_code ec;
    auto d = default_output_device(ec);
    detail::throw_if(ec, "coaudio: default_output_device");
    return d;
}

namespace detail {

inline bool iequals_substring(std::string_view haystack, std::string_view needle)
{
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char a, char b) {
                           return std::tolower(static_cast<unsigned char>(a)) ==
                                  std::tolower(static_cast<unsigned char>(b));
                       }) != haystack.end();
}

inline bool can(const device_info& d, device_kind kind)
{
    return kind == device_kind::any ||
           (kind == device_kind::input ? d.max_input_channels > 0 : d.max_output_channels > 0);
}

} // namespace detail

/// The devices of `candidates` that `name` selects, as sounddevice matches
/// them: an exact name wins; otherwise every device whose name contains
/// `name`, ignoring case. `host_api` (a substring of the host API's name,
/// ignoring case) and `kind` narrow the search.
inline std::vector<device_info> match_devices(const std::vector<device_info>& candidates,
                                              std::string_view name,
                                              device_kind kind = device_kind::any,
                                              std::string_view host_api = {})
{
    std::vector<device_info> exact, partial;
    for (const auto& d : candidates) {
        if (!detail::can(d, kind)) continue;
        if (!host_api.empty() && !detail::iequals_substring(d.host_api_name, host_api)) continue;
        if (d.name == name)
            exact.push_back(d);
        else if (detail::iequals_substring(d.name, name))
            partial.push_back(d);
    }
    return exact.empty() ? partial : exact;
}

/// The one device of `candidates` that `name` selects (see `match_devices`).
/// Throws `std::system_error`: `errc::device_not_found` naming what was
/// asked when none matches, `errc::ambiguous_device` naming every match
/// when several do.
inline device_info select_device(const std::vector<device_info>& candidates, std::string_view name,
                                 device_kind kind = device_kind::any,
                                 std::string_view host_api = {})
{
    const auto found = match_devices(candidates, name, kind, host_api);
    if (found.size() == 1) return found.front();
    std::string what = "coaudio: device \"" + std::string(name) + "\"";
    if (kind != device_kind::any)
        what += kind == device_kind::input ? " with inputs" : " with outputs";
    if (!host_api.empty()) what += " in host API \"" + std::string(host_api) + "\"";
    if (found.empty()) throw std::system_error(make_error_code(errc::device_not_found), what);
    what += " matches " + std::to_string(found.size()) + " devices:";
    for (const auto& d : found)
        what += " [" + std::to_string(d.index) + "] " + d.name + " (" + d.host_api_name + "),";
    what.pop_back();
    throw std::system_error(make_error_code(errc::ambiguous_device), what);
}

/// The one device, among those PortAudio lists now, that `name` selects.
/// Throws as `select_device`.
inline device_info find_device(std::string_view name, device_kind kind = device_kind::any,
                               std::string_view host_api = {})
{
    return select_device(devices(), name, kind, host_api);
}

/// As above; `ec` is `errc::device_not_found` or `errc::ambiguous_device` on failure.
inline device_info find_device(std::string_view name, device_kind kind, std::string_view host_api,
                               std::error_code& ec)
{
    const auto all = devices(ec);
    if (ec) return {};
    const auto found = match_devices(all, name, kind, host_api);
    if (found.size() == 1) return found.front();
    ec = make_error_code(found.empty() ? errc::device_not_found : errc::ambiguous_device);
    return {};
}

} // namespace coaudio

#endif
