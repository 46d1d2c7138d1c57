// coaudio: how the one-shot operations open a device of their own.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_ONESHOT_OPTIONS_HPP
#define COAUDIO_ONESHOT_OPTIONS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/stream_config.hpp>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// How `async_play` opens its stream.
struct play_options {
    /// Output device; empty: the host's default output device.
    device_selector device{};
    /// Channels of the interleaved samples.
    int channels = 1;
    /// Frames per callback; 0 lets the host choose.
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
};

/// How `async_record` opens its stream.
struct record_options {
    /// Input device; empty: the host's default input device.
    device_selector device{};
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
    /// Lost input is always written as silence, so the recording keeps time.
    /// When true, a recording with any loss in it completes with
    /// `errc::input_overflow` (and the whole recording).
    bool overflow_is_error = false;
};

/// How `async_playrec` opens its duplex stream.
struct playrec_options {
    /// Channels of the interleaved samples played.
    int channels = 1;
    /// Channels recorded; 0: as many as are played.
    int input_channels = 0;
    /// Devices; empty: the host's defaults.
    device_selector output_device{};
    device_selector input_device{};
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
    /// As `record_options::overflow_is_error`.
    bool overflow_is_error = false;
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE

#endif
