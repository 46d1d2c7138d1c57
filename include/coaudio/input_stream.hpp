// coaudio: capture as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_INPUT_STREAM_HPP
#define COAUDIO_INPUT_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

#include <cstddef>
#include <span>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A capture stream: frames from a PortAudio input device, read as an Asio
/// AsyncReadStream.
///
/// The audio callback copies each block into a lock-free ring and, only
/// when a read is parked waiting, rings a doorbell that the io_context
/// watches. Reads drain the ring on the io_context; nothing of the caller's
/// runs on the audio thread. Frames lost because a reader fell behind are
/// counted (`counters()`) and reported with the first read after the gap
/// (`last_read()`, or `errc::input_overflow` with `overflow_is_error`).
///
/// One read may be outstanding at a time; a second completes with
/// `errc::operation_in_progress`.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Opening, control and status are shared by every stream
/// (`detail::stream_base`); the operations are this class's own.
///
/// Every operation takes any completion token (the executor's default when
/// none is given, `coaudio::deferred` where it names none) and, through its
/// handler's cancellation slot, per-operation cancellation of the types it
/// names. Frames already copied when an operation is cancelled are counted.
template <class Executor = asio::any_io_executor>
class basic_input_stream : public detail::stream_base<Executor, detail::direction::input> {
    using base = detail::stream_base<Executor, detail::direction::input>;

public:
    using base::base;
    using typename base::executor_type;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_input_stream<Executor1>;
    };

    /// Frames waiting in the ring.
    std::size_t frames_available() const noexcept { return this->readable_frames(); }

    /// What the last completed read found: frames lost and overflow events
    /// just before its first frame, and that frame's ADC time.
    read_status last_read() const noexcept { return this->read_record(); }

    /// The parameters, as `params()` gives them.
    detail::stream_params input_params() const { return this->input_half(); }

    /// Reads one or more whole frames into `buffers`: the AsyncReadStream
    /// operation, for `asio::async_read` and the like.
    ///
    /// Completes as soon as at least one frame has been copied, with the
    /// number of bytes read (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame that fits are left untouched; a non-empty buffer
    /// smaller than one frame fails with `errc::not_whole_frames`. Like
    /// `async_read_frames`, it stops short of a gap in the data.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (stopped, nothing buffered), `errc::device_lost`, `errc::stalled`,
    /// `errc::not_open`, `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class MutableBufferSequence, asio::completion_token_for<void(error_code, std::size_t)>
                                               Token = default_token_t<executor_type>>
    requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_read_some(this), token, buffers);
    }

    /// Reads `samples.size() / channels` interleaved frames into `samples`.
    ///
    /// Completes when the span is full, or when an error ends it, or early
    /// and with success where frames were lost after the ones it read: a
    /// full ring, or an overrun that the host reported (a JACK xrun). The
    /// gap is reported by the read that begins after it (`last_read()`,
    /// and `errc::input_overflow` with `overflow_is_error`), in order with
    /// its data, so that no read's data straddles a gap. Check the count: a
    /// one-second read may return less than a second.
    ///
    /// A read larger than the ring is copied in parts as the ring fills,
    /// and still completes once, so a reader that keeps up loses nothing.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `async_read_some`, plus `errc::format_mismatch` (T is not
    /// the stream's format) and `errc::not_whole_frames` (size not a
    /// multiple of the channel count).
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <sample_type T, std::size_t Extent,
              asio::completion_token_for<void(error_code, std::size_t)> Token =
                  default_token_t<executor_type>>
    auto async_read_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_read_frames(this), token, samples);
    }

    /// Reads non-interleaved: one span per channel, all the same length;
    /// otherwise as the interleaved overload. A channel count other than the
    /// stream's fails with `errc::invalid_channels`.
    template <sample_type T, asio::completion_token_for<void(error_code, std::size_t)> Token =
                                 default_token_t<executor_type>>
    auto async_read_frames(std::span<const std::span<T>> channels, Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            typename base::initiate_read_frames(this), token, channels);
    }
};

/// A capture stream on `asio::any_io_executor`.
using input_stream = basic_input_stream<>;

} // namespace coaudio

#endif
