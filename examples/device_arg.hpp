// Shared by the examples: the device that a --device argument names.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_DEVICE_ARG_HPP
#define COAUDIO_EXAMPLES_DEVICE_ARG_HPP

#include <coaudio/device.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>

// The `kind` (input or output) device that `arg` names: the host's default
// when there is no `arg`; an index when it is all digits; otherwise a name as
// coaudio::find_device matches it (an exact name, or else the one name that
// contains it, ignoring case). When there is none, `problem` says why.
inline std::optional<coaudio::device_info> device_from_arg(const std::optional<std::string>& arg,
                                                           coaudio::device_kind kind, std::string& problem)
{
    const bool input = kind == coaudio::device_kind::input;
    const std::string what = input ? "capture" : "playback";
    std::error_code ec;
    if (!arg) {
        auto d = input ? coaudio::default_input_device(ec) : coaudio::default_output_device(ec);
        if (!d) problem = "no " + what + " device: the host has no default " + (input ? "input" : "output") + " device";
        return d;
    }
    if (!arg->empty() && std::all_of(arg->begin(), arg->end(), [](unsigned char c) { return std::isdigit(c); })) {
        const long long index = std::strtoll(arg->c_str(), nullptr, 10); // saturates: no UB on overflow
        auto d = coaudio::device(index > 1'000'000 ? -1 : static_cast<int>(index), ec);
        if (!ec && (input ? d.max_input_channels : d.max_output_channels) > 0) return d;
        problem = "device " + *arg + " is not a " + what + " device";
        return std::nullopt;
    }
    auto d = coaudio::find_device(*arg, kind, {}, ec);
    if (ec) {
        problem = "\"" + *arg + "\": " + ec.message();
        return std::nullopt;
    }
    return d;
}

#endif
