// coaudio: checking a configuration before opening a stream.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SETTINGS_HPP
#define COAUDIO_SETTINGS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/open_params.hpp>
#include <coaudio/stream_config.hpp>

#include <string>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Checks that a capture stream could be opened with `cfg`, without opening
/// it (`Pa_IsFormatSupported` after the same validation `open` does). The
/// error says why not: `errc::device_not_found`, `errc::invalid_channels`,
/// `errc::invalid_sample_rate`, `errc::invalid_format`, `errc::invalid_latency`, ...;
/// `diag` (and the throwing form's `what()`) names the bad value and the
/// limit it broke.
inline void check_input_settings(const stream_config& cfg, std::error_code& ec, diagnostics& diag)
{
    std::string why;
    ec = detail::open_params::check(detail::direction::input, &cfg, nullptr, why);
    diag.assign(std::move(why));
}
inline void check_input_settings(const stream_config& cfg, std::error_code& ec)
{
    diagnostics diag;
    check_input_settings(cfg, ec, diag);
}
inline void check_input_settings(const stream_config& cfg)
{
    std::error_code ec;
    diagnostics diag;
    check_input_settings(cfg, ec, diag);
    detail::throw_if(ec, "coaudio: check_input_settings", diag.message());
}

/// As `check_input_settings`, for a playback stream.
inline void check_output_settings(const stream_config& cfg, std::error_code& ec, diagnostics& diag)
{
    std::string why;
    ec = detail::open_params::check(detail::direction::output, nullptr, &cfg, why);
    diag.assign(std::move(why));
}
inline void check_output_settings(const stream_config& cfg, std::error_code& ec)
{
    diagnostics diag;
    check_output_settings(cfg, ec, diag);
}
inline void check_output_settings(const stream_config& cfg)
{
    std::error_code ec;
    diagnostics diag;
    check_output_settings(cfg, ec, diag);
    detail::throw_if(ec, "coaudio: check_output_settings", diag.message());
}

/// As `check_input_settings`, for a duplex stream (both halves together).
inline void check_duplex_settings(const duplex_config& cfg, std::error_code& ec, diagnostics& diag)
{
    std::string why;
    ec = detail::open_params::check(detail::direction::duplex, &cfg.input, &cfg.output, why);
    diag.assign(std::move(why));
}
inline void check_duplex_settings(const duplex_config& cfg, std::error_code& ec)
{
    diagnostics diag;
    check_duplex_settings(cfg, ec, diag);
}
inline void check_duplex_settings(const duplex_config& cfg)
{
    std::error_code ec;
    diagnostics diag;
    check_duplex_settings(cfg, ec, diag);
    detail::throw_if(ec, "coaudio: check_duplex_settings", diag.message());
}

} // namespace coaudio

#endif
