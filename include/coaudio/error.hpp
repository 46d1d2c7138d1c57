// coaudio: errors.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_ERROR_HPP
#define COAUDIO_ERROR_HPP

#include <coaudio/detail/namespace.hpp>

#include <portaudio.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Errors raised by coaudio itself. PortAudio's own errors travel in
/// `portaudio_category()` with PortAudio's numeric codes.
enum class errc {
    device_not_found = 1,  ///< no device with that index or name
    no_default_device,     ///< the host has no default device for that direction
    invalid_config,        ///< a stream_config field is out of range
    invalid_channels,      ///< zero, negative or more channels than the device has
    invalid_sample_rate,   ///< the device refuses the sample rate
    invalid_format,        ///< the device refuses the sample format
    invalid_latency,       ///< a latency that is negative or not a number
    ambiguous_device,      ///< a device name that matches more than one device
    not_whole_frames,      ///< a buffer that is not a whole number of frames
    format_mismatch,       ///< a typed operation whose sample type is not the stream's format
    operation_in_progress, ///< a second read (or write) while one is outstanding
    not_open,              ///< the stream is closed or was never opened
    not_running,           ///< the stream is stopped and no buffered frames are left
    input_overflow,        ///< frames were lost before the data of this read
    output_underflow,      ///< silence was played because the writer fell behind
    device_lost,           ///< the device or the audio server went away mid-stream
    stalled,               ///< no callback for longer than the configured stall timeout
    host_not_responding, ///< a PortAudio call did not return in time; it goes on in the background
};

namespace detail {
class coaudio_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "coaudio"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::device_not_found: return "audio device not found";
        case errc::no_default_device: return "no default audio device";
        case errc::invalid_config: return "invalid stream configuration";
        case errc::invalid_channels: return "invalid channel count";
        case errc::invalid_sample_rate:
            // The one place every refusal's words pass, with or without libsoxr.
            return "sample rate not supported by the device (coaudio's one-shot and file "
                   "operations convert rates when it is built with libsoxr)";
        case errc::invalid_format: return "sample format not supported by the device";
        case errc::invalid_latency: return "latency must be a non-negative number of seconds";
        case errc::ambiguous_device: return "device name matches more than one device";
        case errc::not_whole_frames: return "buffer is not a whole number of frames";
        case errc::format_mismatch: return "sample type does not match the stream's format";
        case errc::operation_in_progress: return "an operation of this kind is already in progress";
        case errc::not_open: return "stream is not open";
        case errc::not_running: return "stream is not running and has no buffered frames";
        case errc::input_overflow: return "input overflow: frames were lost";
        case errc::output_underflow: return "output underflow: silence was played";
        case errc::device_lost: return "audio device or server lost";
        case errc::stalled:
            return "no audio for longer than the stall timeout: the device or server stopped "
                   "delivering";
        case errc::host_not_responding:
            return "the audio host did not answer in time (its call goes on in the background)";
        }
        return "unknown coaudio error";
    }
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        switch (static_cast<errc>(ev)) {
        case errc::invalid_config:
        case errc::invalid_channels:
        case errc::invalid_sample_rate:
        case errc::invalid_format:
        case errc::invalid_latency:
        case errc::ambiguous_device:
        case errc::not_whole_frames:
        case errc::format_mismatch: return std::errc::invalid_argument;
        case errc::device_not_found:
        case errc::no_default_device: return std::errc::no_such_device;
        case errc::operation_in_progress: return std::errc::operation_in_progress;
        case errc::not_open: return std::errc::bad_file_descriptor;
        case errc::host_not_responding: return std::errc::timed_out;
        default: return {ev, *this};
        }
    }
};

class portaudio_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "portaudio"; }
    std::string message(int ev) const override { return Pa_GetErrorText(static_cast<PaError>(ev)); }
};
} // namespace detail

/// The category of `coaudio::errc`.
inline const std::error_category& coaudio_category() noexcept
{
    static const detail::coaudio_category_impl instance;
    return instance;
}

/// The category of PortAudio's `PaError` codes; `message()` is `Pa_GetErrorText`.
inline const std::error_category& portaudio_category() noexcept
{
    static const detail::portaudio_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), coaudio_category()};
}

/// Why an operation failed, in words that name the bad value and the limit
/// it broke ("invalid channel count 1000: device 'system' has 2 input
/// channels"), where the error code alone would not say. Filled by the
/// `error_code&` forms of `open` and the settings checks that take one;
/// empty when the code says it all. The throwing forms put the same words in
/// the exception's `what()`.
class diagnostics {
public:
    const std::string& message() const noexcept { return message_; }
    void clear() noexcept { message_.clear(); }
    void assign(std::string message) { message_ = std::move(message); }

private:
    std::string message_;
};

namespace detail {

/// A `std::system_error` whose `what()` is exactly the words given, so that
/// a message naming the bad value does not end with the code's own message
/// repeated.
class described_error : public std::system_error {
public:
    described_error(std::error_code ec, const std::string& what)
        : std::system_error(ec), what_(what)
    {
    }
    const char* what() const noexcept override { return what_.what(); }

private:
    std::runtime_error what_; // its copy cannot throw, as an exception's must not
};

/// A PortAudio result as an error_code (empty for paNoError).
inline std::error_code pa_error(PaError e) noexcept
{
    if (e >= 0) return {};
    return {static_cast<int>(e), portaudio_category()};
}

/// The host API's own description of the last unanticipated host error, read
/// at the failure site because PortAudio keeps only the most recent one.
inline std::string host_error_text(const std::error_code& ec)
{
    if (ec.category() != portaudio_category() || ec.value() != paUnanticipatedHostError) return {};
    const PaHostErrorInfo* info = Pa_GetLastHostErrorInfo();
    if (info == nullptr || info->errorText == nullptr) return {};
    return std::string(" (host error ") + std::to_string(info->errorCode) + ": " + info->errorText +
           ")";
}

/// Throws `std::system_error` for a failed synchronous call.
inline void throw_if(const std::error_code& ec, const char* what)
{
    if (ec) throw std::system_error(ec, std::string(what) + host_error_text(ec));
}

/// As above; where `why` has words for the failure, they are the message.
inline void throw_if(const std::error_code& ec, const char* what, const std::string& why)
{
    if (ec && !why.empty()) throw described_error(ec, std::string(what) + ": " + why);
    throw_if(ec, what);
}

} // namespace detail
} // namespace coaudio

template <>
struct std::is_error_code_enum<coaudio::errc> : std::true_type {
};

#endif
