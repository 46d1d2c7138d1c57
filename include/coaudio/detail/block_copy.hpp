// coaudio: what the audio callback does with one direction: one copy between
// the device's buffer and the ring.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_BLOCK_COPY_HPP
#define COAUDIO_DETAIL_BLOCK_COPY_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/direction_bridge.hpp>
#include <coaudio/detail/stream_params.hpp>
#include <coaudio/ring.hpp>
#include <coaudio/sample_format.hpp>

#include <portaudio.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

// Audio thread only. Each function here copies a block once, counts what was
// lost, and rings the bridge's doorbell only when a parked operation can now
// proceed (direction_bridge::notify). Nothing here allocates, locks or blocks.

/// Calls `fn(std::integral_constant<std::size_t, B>{})`, B the bytes of
/// one sample of `f`, so that each sample's copy compiles to one move.
template <class Fn>
void with_sample_bytes(sample_format f, Fn fn) noexcept
{
    switch (sample_bytes(f)) {
    case 1: return fn(std::integral_constant<std::size_t, 1>{});
    case 2: return fn(std::integral_constant<std::size_t, 2>{});
    case 3: return fn(std::integral_constant<std::size_t, 3>{});
    default: return fn(std::integral_constant<std::size_t, 4>{});
    }
}

/// With a mapping, moves `frames` frames between a device buffer (every
/// channel the device was opened with) and ring frames (the mapped
/// channels only). Input (`ToRing`): the mapped channels into the ring.
/// Output: ring frames onto the mapped channels, the others left as
/// they are.
template <bool ToRing>
void remap(const stream_params& p, std::conditional_t<ToRing, const std::byte*, std::byte*> device,
           std::conditional_t<ToRing, std::byte*, const std::byte*> ring,
           std::size_t frames) noexcept
{
    with_sample_bytes(p.format, [&](auto bytes) {
        constexpr std::size_t b = decltype(bytes)::value;
        const std::size_t stride = b * static_cast<std::size_t>(p.device_channels());
        for (std::size_t f = 0; f < frames; ++f, device += stride)
            for (std::size_t i = 0; i < p.mapped; ++i, ring += b) {
                if constexpr (ToRing)
                    std::memcpy(ring, device + b * p.mapping[i], b);
                else
                    std::memcpy(device + b * p.mapping[i], ring, b);
            }
    });
}

/// Input: copies one callback's `frames` frames (null `input`: the host had
/// none, and silence stands in) into the ring, with their ADC time.
///
/// The producer half of the gap protocol; the consumer half is
/// `read_transfer` (transfer.hpp). Frames that find no room are lost and
/// accumulate in a pending gap, which is published to the gap queue before
/// the next frames that fit, so that a reader meets each gap exactly where
/// it is in the data.
inline void capture_block(direction_bridge& c, const void* input, std::size_t frames,
                          PaStreamCallbackFlags flags, double adc_time) noexcept
{
    if (flags & paInputOverflow) {
        c.published.host_overflows.add(1);
        c.audio.pending.position = c.ring.write_index();
        ++c.audio.pending.events;
    }
    ring_regions r = c.ring.prepare_write(frames);
    // A gap must be published before the frames that follow it. Should
    // the gap queue be full (a reader taking a frame at a time from an
    // overflowing ring), these frames join the gap instead, so that every
    // gap is still reported exactly where it is.
    if (r.frames > 0 && c.audio.pending.events != 0 && !c.gaps.push(c.audio.pending)) r.frames = 0;
    if (r.frames > 0) {
        c.audio.pending = {};
        // A full mark queue only costs precision: the reader extrapolates
        // from the last mark it has.
        if (adc_time != 0.0) c.times.push({c.ring.write_index(), adc_time});
        if (input != nullptr && c.params.mapped != 0) {
            // The mapped channels only, in the same one pass.
            const auto* src = static_cast<const std::byte*>(input);
            const std::size_t first = r.first.size() / c.params.frame_bytes();
            remap<true>(c.params, src, r.first.data(), first);
            remap<true>(c.params, src + first * c.params.device_frame_bytes(), r.second.data(),
                        r.frames - first);
        } else if (input != nullptr) {
            const auto* src = static_cast<const std::byte*>(input);
            std::memcpy(r.first.data(), src, r.first.size());
            if (!r.second.empty())
                std::memcpy(r.second.data(), src + r.first.size(), r.second.size());
        } else { // the host had no input for this block
            std::memset(r.first.data(), std::to_integer<int>(c.silence), r.first.size());
            std::memset(r.second.data(), std::to_integer<int>(c.silence), r.second.size());
        }
        c.ring.commit_write(r.frames);
        c.published.frames.add(r.frames);
    }
    if (r.frames < frames) {
        const std::size_t lost = frames - r.frames;
        c.published.frames_dropped.add(lost);
        if (c.audio.pending.events == 0) c.audio.pending.position = c.ring.write_index();
        c.audio.pending.frames += lost;
        if (!(flags & paInputOverflow) || r.frames > 0) ++c.audio.pending.events;
    }
    if ((flags & paInputOverflow) || r.frames < frames) c.published.overflows.add(1);
    if (r.frames > 0) c.notify(c.ring.readable_from_producer());
}

/// Output: fills one callback's `frames` frames of `output` from the ring,
/// silence where the ring runs dry, and notes the DAC time of the frame at
/// the ring's read position. `draining`: the stream plays out what is queued
/// (silence after it is the tail, not an underflow). Returns the ring's
/// free frames after the copy: all of them once it has run dry.
inline std::size_t playback_block(direction_bridge& c, void* output, std::size_t frames,
                                  PaStreamCallbackFlags flags, double dac_time,
                                  bool draining) noexcept
{
    if (flags & paOutputUnderflow) c.published.host_underflows.add(1);
    if (dac_time != 0.0) c.dac.store(c.ring.read_index(), dac_time);
    std::size_t got = 0;
    if (c.params.mapped == 0) {
        got = c.ring.read(output, frames);
    } else {
        // Unmapped device channels stay silent; the mapped ones are
        // filled from the ring in the same one pass.
        std::memset(output, std::to_integer<int>(c.silence),
                    frames * c.params.device_frame_bytes());
        const ring_regions r = c.ring.prepare_read(frames);
        const std::size_t first = r.first.size() / c.params.frame_bytes();
        auto* dst = static_cast<std::byte*>(output);
        remap<false>(c.params, dst, r.first.data(), first);
        remap<false>(c.params, dst + first * c.params.device_frame_bytes(), r.second.data(),
                     r.frames - first);
        c.ring.commit_read(r.frames);
        got = r.frames;
    }
    if (got < frames) {
        const std::size_t fb = c.params.device_frame_bytes();
        std::memset(static_cast<std::byte*>(output) + got * fb, std::to_integer<int>(c.silence),
                    (frames - got) * fb);
        // Before the first frame arrives silence is the expected pre-roll, and
        // after a drain it is the tail: neither is a writer falling behind.
        if (c.audio.primed && !draining) {
            c.published.underflows.add(1);
            c.published.silence_frames.add(frames - got);
        }
    }
    if (got > 0) {
        c.audio.primed = true;
        c.published.frames.add(got);
    }
    const std::size_t free = c.ring.writable_from_consumer();
    c.notify(free);
    return free;
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
