// coaudio: stream configuration.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_STREAM_CONFIG_HPP
#define COAUDIO_STREAM_CONFIG_HPP

#include <coaudio/detail/namespace.hpp>
#include <coaudio/sample_format.hpp>

#include <cstddef>
#include <optional>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// The latency asked of the host: its low or high default for the device, or
/// a number of seconds. The host may grant something else.
struct latency_hint {
    enum class mode { low, high, seconds };
    mode kind = mode::high;
    double value = 0.0;

    static constexpr latency_hint low() noexcept { return {mode::low, 0.0}; }
    static constexpr latency_hint high() noexcept { return {mode::high, 0.0}; }
    static constexpr latency_hint seconds(double s) noexcept { return {mode::seconds, s}; }
};

/// Everything needed to open a stream. Designated initialisers read well:
/// `{.device = 3, .channels = 2, .sample_rate = 48000, .frames_per_block = 256}`.
struct stream_config {
    /// PortAudio device index; empty means the host's default device for the direction.
    std::optional<int> device{};
    /// Samples per frame (interleaved).
    int channels = 1;
    sample_format format = sample_format::float32;
    /// Frames per second; 0 means the device's default rate.
    double sample_rate = 0.0;
    /// Frames per callback; 0 lets the host choose (and vary) the block size.
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
    /// Capacity of the ring between the audio thread and the io_context, in
    /// frames, rounded up to a power of two. 0 picks about 100 ms and at least
    /// four blocks. For input it is how long a reader may stall before frames
    /// are dropped; for output it is how far a writer may run ahead.
    std::size_t ring_frames = 0;
    /// When true a read whose data follows lost frames completes with
    /// `errc::input_overflow` (and its data). By default the loss is only
    /// reported through `last_read()` and the counters, so a read loop that
    /// does not care about overflows keeps running.
    bool overflow_is_error = false;
};

/// A full-duplex stream's two halves. They share one clock: the sample rate
/// and block size may be given in either half (or both, equal); device,
/// channels, format, latency and ring size are per half.
struct duplex_config {
    stream_config input;
    stream_config output;
};

} // namespace coaudio

#endif
