// coaudio: one-shot play, record and play-and-record, like sounddevice's
// play(), rec() and playrec(), as awaitable and cancellable operations.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_ONESHOT_HPP
#define COAUDIO_ONESHOT_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/oneshot_device.hpp>
#include <coaudio/detail/oneshot_ops.hpp>
#include <coaudio/duplex_stream.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>

#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

// ---- On a device of their own --------------------------------------------------------
//
// Each operation opens a stream of its own with the `stream_config` it is given
// (`stream` or `streams`), runs on the executor it is given or on the
// executor of the execution context it is given, and closes the stream before it
// completes. All of the configuration applies as it does to a stream you open,
// `mapping` and `stall_timeout` included, except that the operation sets
// `format` to float32 and `sample_rate` to its `rate`, and that a
// `ring_frames` of 0 means half a second. `channels` (or the size of
// `mapping`) is the channel count of the operation's interleaved samples.

/// Plays interleaved float samples on an output device and completes when the
/// last frame has been heard: when the stream's clock has reached the DAC time
/// of the last frame, not when it was queued.
///
/// Opens a float32 stream at `rate` (0: the device's default rate) with
/// `stream`, pre-fills it, starts it, streams the rest, drains it and waits
/// out the output latency, then closes it. `samples` must stay valid until
/// the operation completes.
///
/// Signature: `void(coaudio::error_code)`.
/// Errors: those of opening a stream (`errc::device_not_found`,
/// `errc::no_default_device`, `errc::invalid_channels`,
/// `errc::invalid_sample_rate`, ...), `errc::not_whole_frames`,
/// `errc::device_lost`, `errc::stalled` (with `stream.stall_timeout`),
/// `asio::error::operation_aborted`.
/// Cancellation: terminal and partial. The sound stops at once
/// (`Pa_AbortStream`, within the block being played) and the operation
/// completes with `operation_aborted`.
template <detail::executor_or_context Target,
          class Token = default_token_t<detail::executor_of_t<Target>>>
auto async_play(Target&& target, std::span<const float> samples, double rate,
                stream_config stream = {}, Token&& token = Token{})
{
    return detail::start_coroutine(detail::executor_of(std::forward<Target>(target)),
                                   std::forward<Token>(token),
                                   [samples, rate, stream = std::move(stream)] {
                                       return detail::play_buffer(samples, rate, stream);
                                   });
}

/// Records `frames` frames of `stream.channels` interleaved float samples
/// from an input device at `rate` (0: the device's default rate).
///
/// Frames lost on the way (the io thread fell behind the device) are written
/// as silence, so sample i is always i / rate seconds after the first.
///
/// Signature: `void(coaudio::error_code, std::vector<float> recording)`.
/// Errors: those of opening a stream, `errc::device_lost`,
/// `errc::input_overflow` (only with `stream.overflow_is_error`; the
/// recording is whole), `errc::stalled` (with `stream.stall_timeout`; what
/// was recorded), `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; completes at once with
/// `operation_aborted` and what was recorded so far.
template <detail::executor_or_context Target,
          class Token = default_token_t<detail::executor_of_t<Target>>>
auto async_record(Target&& target, std::size_t frames, double rate, stream_config stream = {},
                  Token&& token = Token{})
{
    return detail::start_coroutine(detail::executor_of(std::forward<Target>(target)),
                                   std::forward<Token>(token),
                                   [frames, rate, stream = std::move(stream)] {
                                       return detail::record_buffer(frames, rate, stream);
                                   });
}

/// Plays `play` (interleaved, `streams.output.channels` channels) and records
/// `streams.input.channels` channels at the same time on one duplex stream,
/// one clock, and completes with a recording of as many frames, aligned to
/// the playback.
///
/// The alignment is the callback's: the stream is pre-filled and started by
/// the operation, so the callback that hands frame i of `play` to the host
/// captures frame i of the recording. A signal that leaves the output and comes
/// back to the input therefore shows up in the recording delayed by the round
/// trip (output latency + input latency, or on JACK's port loopback a fixed
/// number of periods), the same delay on every run; its last frames are not
/// in the recording.
///
/// Signature: `void(coaudio::error_code, std::vector<float> recording)`.
/// Errors: those of opening a stream, `errc::not_whole_frames`,
/// `errc::device_lost`, `errc::output_underflow` (silence had to be played
/// mid-way, so the alignment is lost; the recording is whole),
/// `errc::input_overflow` (with `streams.input.overflow_is_error`),
/// `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; the stream is aborted and the
/// operation completes with `operation_aborted` and what was recorded.
template <detail::executor_or_context Target,
          class Token = default_token_t<detail::executor_of_t<Target>>>
auto async_playrec(Target&& target, std::span<const float> play, double rate,
                   duplex_config streams = {}, Token&& token = Token{})
{
    return detail::start_coroutine(detail::executor_of(std::forward<Target>(target)),
                                   std::forward<Token>(token),
                                   [play, rate, streams = std::move(streams)] {
                                       return detail::playrec_buffer(play, rate, streams);
                                   });
}

// ---- On a stream of yours -------------------------------------------------------------
//
// The same operations on a stream that is already open, in its own sample
// format (the span's type must match it), to reuse one stream or to play and
// record in int16 or int32. The stream must outlive the operation.

/// Plays `samples` (interleaved, in the stream's format) on `stream` and
/// completes when the last frame has been heard. A stream that is not running
/// is pre-filled and started; at the end it has drained and is inactive until
/// `start()`.
///
/// Signature: `void(coaudio::error_code, std::size_t frames_queued)`.
/// Errors: as the device form, plus `errc::not_open` and
/// `errc::format_mismatch`.
/// Cancellation: terminal and partial; the stream is aborted.
template <class Executor, class T, std::size_t Extent, class Token = default_token_t<Executor>>
requires sample_type<std::remove_const_t<T>>
auto async_play(basic_output_stream<Executor>& stream, std::span<T, Extent> samples,
                Token&& token = Token{})
{
    using U = std::remove_const_t<T>;
    return detail::start_coroutine(
        stream.get_executor(), std::forward<Token>(token),
        [&stream, s = std::span<const U>(samples)] { return detail::play_span<U>(stream, s); });
}

/// Fills `samples` (interleaved, in the stream's format) with frames recorded
/// from `stream`. A stream that is not running is started here and stopped at
/// the end. Lost input is written as silence; with the stream's
/// `overflow_is_error` any loss completes with `errc::input_overflow`.
///
/// Signature: `void(coaudio::error_code, std::size_t frames)`.
/// Errors: as the device form, plus `errc::not_open` and
/// `errc::format_mismatch`.
/// Cancellation: terminal and partial; what was recorded is counted.
template <class Executor, sample_type T, std::size_t Extent,
          class Token = default_token_t<Executor>>
auto async_record(basic_input_stream<Executor>& stream, std::span<T, Extent> samples,
                  Token&& token = Token{})
{
    return detail::start_coroutine(
        stream.get_executor(), std::forward<Token>(token),
        [&stream, s = std::span<T>(samples)] { return detail::record_span<T>(stream, s); });
}

/// Plays `play` and records as many frames into `recording` on a duplex
/// stream, aligned as the device form explains. The stream must be open and
/// not running (the alignment needs its first callback; a running stream
/// completes with `std::errc::device_or_resource_busy`) with no output queued;
/// `recording` must hold exactly as many frames as `play`, in the input's
/// channel count (else `std::errc::invalid_argument`). At the end the stream
/// has drained and is inactive.
///
/// Signature: `void(coaudio::error_code, std::size_t frames_recorded)`.
/// Cancellation: terminal and partial; the stream is aborted.
template <class Executor, class TP, std::size_t E1, sample_type TR, std::size_t E2,
          class Token = default_token_t<Executor>>
requires sample_type<std::remove_const_t<TP>>
auto async_playrec(basic_duplex_stream<Executor>& stream, std::span<TP, E1> play,
                   std::span<TR, E2> recording, Token&& token = Token{})
{
    using U = std::remove_const_t<TP>;
    return detail::start_coroutine(
        stream.get_executor(), std::forward<Token>(token),
        [&stream, p = std::span<const U>(play), r = std::span<TR>(recording)] {
            return detail::playrec_span<U, TR>(stream, p, r);
        });
}

} // namespace coaudio

#endif
