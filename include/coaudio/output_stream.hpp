// coaudio: playback as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_OUTPUT_STREAM_HPP
#define COAUDIO_OUTPUT_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

#include <cstddef>
#include <span>
#include <type_traits>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A playback stream: frames written as an Asio AsyncWriteStream, played
/// by a PortAudio output device.
///
/// Writes copy into a lock-free ring on the io_context and park when it is
/// full; the audio callback takes frames from the ring and rings a doorbell
/// when space frees while a writer is parked. When the writer falls behind
/// the callback plays silence and counts it (`counters().underflows`).
/// Writes may run ahead of `start()` to pre-fill the ring.
///
/// One write (or drain) may be outstanding at a time; a second completes
/// with `errc::operation_in_progress`.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Opening, control and status are shared by every stream
/// (`detail::stream_base`); the operations are this class's own.
///
/// Every operation takes any completion token (the executor's default when
/// none is given, `coaudio::deferred` where it names none) and, through its
/// handler's cancellation slot, per-operation cancellation of the types it
/// names.
template <class Executor = asio::any_io_executor>
class basic_output_stream : public detail::stream_base<Executor, detail::direction::output> {
    using base = detail::stream_base<Executor, detail::direction::output>;

public:
    using base::base;
    using typename base::executor_type;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_output_stream<Executor1>;
    };

    /// Free frames in the ring: how much a write takes without waiting.
    std::size_t frames_writable() const noexcept { return this->writable_frames(); }

    /// What the last completed write learned: when its first frame is
    /// expected at the DAC.
    write_status last_write() const noexcept { return this->write_record(); }

    /// The parameters, as `params()` gives them.
    detail::stream_params output_params() const { return this->output_half(); }

    /// Writes one or more whole frames from `buffers`: the AsyncWriteStream
    /// operation, for `asio::async_write` and the like.
    ///
    /// Completes as soon as at least one frame has been queued, with the
    /// number of bytes taken (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame are not taken; a non-empty buffer smaller than one
    /// frame fails with `errc::not_whole_frames`.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (finished, or stopped with a full ring), `errc::device_lost`,
    /// `errc::stalled`, `errc::not_open`, `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class ConstBufferSequence, asio::completion_token_for<void(error_code, std::size_t)>
                                             Token = default_token_t<executor_type>>
    requires asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
    async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_write_some(this), token, buffers);
    }

    /// Queues all `samples.size() / channels` interleaved frames of
    /// `samples`, waiting for ring space as needed.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `async_write_some`, plus `errc::format_mismatch` (T is not
    /// the stream's format) and `errc::not_whole_frames` (size not a
    /// multiple of the channel count).
    /// Cancellation: terminal and partial; frames already queued are counted
    /// and will be played.
    template <class T, std::size_t Extent,
              asio::completion_token_for<void(error_code, std::size_t)> Token =
                  default_token_t<executor_type>>
    requires sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_write_frames(this), token, samples);
    }

    /// Writes non-interleaved: one span per channel, all the same length;
    /// otherwise as the interleaved overload. A channel count other than the
    /// stream's fails with `errc::invalid_channels`.
    template <class T, asio::completion_token_for<void(error_code, std::size_t)> Token =
                           default_token_t<executor_type>>
    requires sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<const std::span<T>> channels, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_write_frames(this), token, channels);
    }

    /// Completes once every frame written so far has been played and the
    /// stream has finished; the stream is then inactive until `start()`.
    /// Completes at once if the stream is stopped with nothing queued.
    ///
    /// Signature: `void(coaudio::error_code)`.
    /// Errors: `operation_aborted`, `errc::not_running` (stopped with frames
    /// still queued), `errc::device_lost`, `errc::stalled`, `errc::not_open`,
    /// `errc::operation_in_progress` (a write is pending).
    /// Cancellation: terminal and partial; the stream keeps draining.
    template <asio::completion_token_for<void(error_code)> Token = default_token_t<executor_type>>
    auto async_drain(Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code)>(typename base::initiate_drain(this),
                                                             token);
    }
};

/// A playback stream on `asio::any_io_executor`.
using output_stream = basic_output_stream<>;

} // namespace coaudio

#endif
