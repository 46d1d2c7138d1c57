// coaudio: resolving a stream configuration into PortAudio's parameters.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_OPEN_PARAMS_HPP
#define COAUDIO_DETAIL_OPEN_PARAMS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/control_thread.hpp>
#include <coaudio/detail/stream_params.hpp>
#include <coaudio/device.hpp>
#include <coaudio/error.hpp>
#include <coaudio/library.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>

#include <portaudio.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

/// What opening (or checking) a stream does before PortAudio is asked:
/// select the device, validate each value against it, and say in words
/// which value is wrong when one is.
namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail::open_params {

inline std::error_code map_error(PaError e) noexcept
{
    switch (e) {
    case paInvalidSampleRate: return make_error_code(errc::invalid_sample_rate);
    case paInvalidChannelCount: return make_error_code(errc::invalid_channels);
    case paInvalidDevice: return make_error_code(errc::device_not_found);
    case paSampleFormatNotSupported: return make_error_code(errc::invalid_format);
    default: return pa_error(e);
    }
}

/// A number as people write it: 48000, 0.5, nan.
inline std::string number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

inline std::string device_name(int dev)
{
    const PaDeviceInfo* info = Pa_GetDeviceInfo(dev);
    return "'" + std::string(info != nullptr && info->name != nullptr ? info->name : "?") + "'";
}

/// The device index that `sel` selects for the direction, or an error.
inline std::error_code select_device(bool in, const device_selector& sel, int& dev,
                                     std::string& why)
{
    const char* dir = in ? "input" : "output";
    const int count = Pa_GetDeviceCount();
    if (!sel) {
        dev = in ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        if (dev != paNoDevice) return {};
        why = std::string("the host has no default ") + dir + " device";
        return make_error_code(errc::no_default_device);
    }
    if (const int* index = sel.index()) {
        dev = *index;
        if (dev >= 0 && dev < count && Pa_GetDeviceInfo(dev) != nullptr) return {};
        why = "no device " + std::to_string(dev) + ": PortAudio lists " +
              std::to_string(std::max(count, 0)) + " devices";
        return make_error_code(errc::device_not_found);
    }
    std::vector<device_info> all;
    for (int i = 0; i < count; ++i)
        if (const PaDeviceInfo* d = Pa_GetDeviceInfo(i)) all.push_back(make_device_info(i, *d));
    const std::string& name = *sel.name();
    const auto found = match_devices(all, name, in ? device_kind::input : device_kind::output);
    if (found.size() == 1) {
        dev = found.front().index;
        return {};
    }
    why = "device '" + name + "'";
    if (found.empty()) {
        why += std::string(" not found among the ") + dir + " devices";
        return make_error_code(errc::device_not_found);
    }
    why += " matches " + std::to_string(found.size()) + " " + dir + " devices:";
    for (const auto& d : found)
        why += " [" + std::to_string(d.index) + "] " + d.name + " (" + d.host_api_name + "),";
    why.pop_back();
    return make_error_code(errc::ambiguous_device);
}

inline std::error_code resolve_one(bool in, const stream_config& cfg, stream_params& p,
                                   PaStreamParameters& sp, std::string& why)
{
    int dev = -1;
    if (auto ec = select_device(in, cfg.device, dev, why)) return ec;
    const PaDeviceInfo* info = Pa_GetDeviceInfo(dev);
    const char* dir = in ? "input" : "output";
    const int max_channels = in ? info->maxInputChannels : info->maxOutputChannels;
    if (auto ec = resolve_channels(cfg, max_channels, dir, device_name(dev), p, why)) return ec;
    const double rate = cfg.sample_rate == 0.0 ? info->defaultSampleRate : cfg.sample_rate;
    if (!(rate > 0.0) || !std::isfinite(rate)) {
        why = "invalid sample rate " + number(rate) +
              ": must be a positive number of frames per second";
        return make_error_code(errc::invalid_sample_rate);
    }
    if (sample_bytes(cfg.format) == 0) {
        why = "invalid sample format " + std::to_string(static_cast<int>(cfg.format));
        return make_error_code(errc::invalid_format);
    }
    double latency = 0;
    switch (cfg.latency.kind) {
    case latency_hint::mode::low:
        latency = in ? info->defaultLowInputLatency : info->defaultLowOutputLatency;
        break;
    case latency_hint::mode::high:
        latency = in ? info->defaultHighInputLatency : info->defaultHighOutputLatency;
        break;
    case latency_hint::mode::seconds:
        if (!(cfg.latency.value >= 0.0) || !std::isfinite(cfg.latency.value)) {
            why = "invalid latency " + number(cfg.latency.value) +
                  " s: must be a non-negative number of seconds";
            return make_error_code(errc::invalid_latency);
        }
        latency = cfg.latency.value;
        break;
    default: why = "invalid latency mode"; return make_error_code(errc::invalid_latency);
    }
    if (cfg.ring_frames > (std::size_t{1} << 30)) {
        why = "ring of " + std::to_string(cfg.ring_frames) +
              " frames is over the limit of 2^30 frames";
        return make_error_code(errc::invalid_config);
    }
    p.device = dev;
    p.format = cfg.format;
    p.sample_rate = rate;
    p.frames_per_block = cfg.frames_per_block;
    p.latency = latency;
    p.overflow_is_error = cfg.overflow_is_error;
    p.stall_timeout = cfg.stall_timeout;
    sp.device = dev;
    sp.channelCount = p.device_channels();
    sp.sampleFormat = to_portaudio(cfg.format);
    sp.suggestedLatency = latency;
    sp.hostApiSpecificStreamInfo = nullptr;
    return {};
}

/// Words for a refusal by `Pa_IsFormatSupported`, naming what was asked.
inline std::string refusal(const std::error_code& ec, direction dir, const stream_params& in_p,
                           const stream_params& out_p)
{
    const stream_params& p = has_input(dir) ? in_p : out_p;
    std::string devices = device_name(p.device);
    if (dir == direction::duplex && in_p.device != out_p.device)
        devices += " and " + device_name(out_p.device);
    if (ec == errc::invalid_sample_rate) {
        const PaDeviceInfo* info = Pa_GetDeviceInfo(p.device);
        return "sample rate " + number(p.sample_rate) + " Hz not supported by device " + devices +
               (info != nullptr ? " (its default is " + number(info->defaultSampleRate) + " Hz)"
                                : "");
    }
    if (ec == errc::invalid_format)
        return std::string("sample format ") + to_string(p.format) + " not supported by device " +
               devices;
    if (ec == errc::invalid_channels)
        return "channel count " + std::to_string(p.device_channels()) +
               " not supported by device " + devices;
    return {};
}

/// A configuration resolved for PortAudio: each direction's parameters, as
/// the stream keeps them and as `Pa_OpenStream` takes them.
struct resolved {
    direction dir = direction::input;
    stream_params in, out;
    PaStreamParameters in_pa{}, out_pa{};

    const PaStreamParameters* pa_input() const noexcept
    {
        return has_input(dir) ? &in_pa : nullptr;
    }
    const PaStreamParameters* pa_output() const noexcept
    {
        return has_output(dir) ? &out_pa : nullptr;
    }
    /// The stream's rate and block size: a duplex stream's halves share them.
    double sample_rate() const noexcept
    {
        return has_input(dir) ? in.sample_rate : out.sample_rate;
    }
    unsigned long frames_per_block() const noexcept
    {
        return has_input(dir) ? in.frames_per_block : out.frames_per_block;
    }
};

/// Resolves the configuration of each direction `dir` has (`in_cfg` for
/// input and duplex, `out_cfg` for output and duplex) into `r`. On failure
/// `why` names the bad value where there is one.
inline std::error_code resolve(direction dir, const stream_config* in_cfg,
                               const stream_config* out_cfg, resolved& r, std::string& why)
{
    r.dir = dir;
    stream_params& in_p = r.in;
    stream_params& out_p = r.out;
    if (has_input(dir)) {
        if (in_cfg == nullptr) return make_error_code(errc::invalid_config);
        if (auto ec = resolve_one(true, *in_cfg, in_p, r.in_pa, why)) return ec;
    }
    if (has_output(dir)) {
        if (out_cfg == nullptr) return make_error_code(errc::invalid_config);
        if (auto ec = resolve_one(false, *out_cfg, out_p, r.out_pa, why)) return ec;
    }
    if (dir == direction::duplex) {
        // One stream, one clock: both halves share the rate and block size.
        if (in_p.sample_rate != out_p.sample_rate) {
            if (in_cfg->sample_rate != 0.0 && out_cfg->sample_rate != 0.0) {
                why = "duplex halves ask for different sample rates: input " +
                      number(in_p.sample_rate) + " Hz, output " + number(out_p.sample_rate) + " Hz";
                return make_error_code(errc::invalid_sample_rate);
            }
            const double rate = in_cfg->sample_rate != 0.0 ? in_p.sample_rate : out_p.sample_rate;
            in_p.sample_rate = out_p.sample_rate = rate;
        }
        if (in_p.frames_per_block != out_p.frames_per_block) {
            if (in_p.frames_per_block != 0 && out_p.frames_per_block != 0) {
                why = "duplex halves ask for different block sizes: input " +
                      std::to_string(in_p.frames_per_block) + ", output " +
                      std::to_string(out_p.frames_per_block) + " frames";
                return make_error_code(errc::invalid_config);
            }
            in_p.frames_per_block = out_p.frames_per_block =
                std::max(in_p.frames_per_block, out_p.frames_per_block);
        }
    }
    return {};
}

/// Asks PortAudio whether it would open `r`; `why` as for `resolve`. On the
/// control thread.
inline std::error_code check_format(const resolved& r, std::string& why)
{
    std::error_code ec =
        map_error(Pa_IsFormatSupported(r.pa_input(), r.pa_output(), r.sample_rate()));
    if (ec) why = refusal(ec, r.dir, r.in, r.out);
    return ec;
}

/// A stream's configurations, copied for a call on the control thread,
/// which may run after the caller's copies are gone.
struct config_copy {
    config_copy(const stream_config* in_cfg, const stream_config* out_cfg)
    {
        if (in_cfg != nullptr) in = *in_cfg;
        if (out_cfg != nullptr) out = *out_cfg;
    }
    const stream_config* input() const noexcept { return in ? &*in : nullptr; }
    const stream_config* output() const noexcept { return out ? &*out : nullptr; }

    std::optional<stream_config> in, out;
};

/// Checks a configuration the way opening a stream would, without opening
/// anything; `in_cfg`, `out_cfg` and `why` as for `resolve`.
///
/// Runs on the control thread, as opening does (some hosts open the device
/// to answer), and waits for it at most `setup_patience`.
inline std::error_code check(direction dir, const stream_config* in_cfg,
                             const stream_config* out_cfg, std::string& why)
{
    const library_ref lib;
    if (lib.error()) return lib.error();
    const config_copy cfg(in_cfg, out_cfg);
    struct checked {
        std::error_code ec;
        std::string why;
    };
    std::optional<checked> c = control_thread::value_of<checked>(
        [=] {
            checked k;
            resolved r;
            k.ec = resolve(dir, cfg.input(), cfg.output(), r, k.why);
            if (!k.ec) k.ec = check_format(r, k.why);
            return k;
        },
        [](checked) {}, setup_patience);
    if (!c) return make_error_code(errc::host_not_responding);
    why = std::move(c->why);
    return c->ec;
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail::open_params

#endif
