// coaudio: checking a configuration before opening a stream.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SETTINGS_HPP
#define COAUDIO_SETTINGS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_core.hpp>
#include <coaudio/stream_config.hpp>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Checks that a capture stream could be opened with `cfg`, without opening
/// it (`Pa_IsFormatSupported` after the same validation `open` does). The
/// error says why not: `errc::device_not_found`, `errc::invalid_channels`,
/// `errc::invalid_sample_rate`, `errc::invalid_format`, `errc::invalid_latency`, ...
inline void check_input_settings(const stream_config& cfg, std::error_code& ec)
{
    ec = detail::stream_core::check(detail::direction::input, &cfg, nullptr);
}
inline void check_input_settings(const stream_config& cfg)
{
    std::error_code ec;
    check_input_settings(cfg, ec);
    detail::throw_if(ec, "coaudio: check_input_settings");
}

/// As `check_input_settings`, for a playback stream.
inline void check_output_settings(const stream_config& cfg, std::error_code& ec)
{
    ec = detail::stream_core::check(detail::direction::output, nullptr, &cfg);
}
inline void check_output_settings(const stream_config& cfg)
{
    std::error_code ec;
    check_output_settings(cfg, ec);
    detail::throw_if(ec, "coaudio: check_output_settings");
}

/// As `check_input_settings`, for a duplex stream (both halves together).
inline void check_duplex_settings(const duplex_config& cfg, std::error_code& ec)
{
    ec = detail::stream_core::check(detail::direction::duplex, &cfg.input, &cfg.output);
}
inline void check_duplex_settings(const duplex_config& cfg)
{
    std::error_code ec;
    check_duplex_settings(cfg, ec);
    detail::throw_if(ec, "coaudio: check_duplex_settings");
}

} // namespace coaudio

#endif
