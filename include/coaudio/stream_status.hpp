// coaudio: what a stream tells about its health.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_STREAM_STATUS_HPP
#define COAUDIO_STREAM_STATUS_HPP

#include <coaudio/detail/namespace.hpp>

#include <cstdint>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Totals since the stream was opened, as counted on the audio thread.
struct stream_counters {
    /// Frames the audio thread moved: captured into the ring (input) or
    /// taken from it for playback (output).
    std::uint64_t frames = 0;
    /// Input: callbacks in which frames were lost, by a full ring or by the host.
    std::uint64_t overflows = 0;
    /// Input: frames dropped because the ring was full (the reader fell behind).
    std::uint64_t frames_dropped = 0;
    /// Input: callbacks that the host flagged as following lost input.
    std::uint64_t host_overflows = 0;
    /// Output: callbacks that found too few frames and played silence.
    std::uint64_t underflows = 0;
    /// Output: frames of silence played in place of data.
    std::uint64_t silence_frames = 0;
    /// Output: callbacks the host flagged as following an output gap.
    std::uint64_t host_underflows = 0;
};

/// What the most recent completed read found just before its first frame.
struct read_status {
    /// Frames lost (ring full) immediately before this read's data.
    std::uint64_t frames_lost = 0;
    /// Loss events (ring overflows and host overflow flags) just before this read's data.
    std::uint32_t overflows = 0;

    /// When the first frame of the read was captured at the ADC, in seconds
    /// on the stream's clock (`time()`); 0 when the host gives no times.
    double input_time = 0;

    /// True when the data of the read does not follow its predecessor without a gap.
    bool discontinuous() const noexcept { return overflows != 0; }
};

/// What the most recent completed write learned about its frames.
struct write_status {
    /// When the first frame of the write is expected at the DAC, in seconds
    /// on the stream's clock, extrapolated from the last callback; 0 before
    /// the stream has run or when the host gives no times. Later underflows
    /// delay it by the silence they insert.
    double output_time = 0;
};

} // namespace coaudio

#endif
