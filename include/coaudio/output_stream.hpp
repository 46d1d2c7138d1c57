// coaudio: playback as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_OUTPUT_STREAM_HPP
#define COAUDIO_OUTPUT_STREAM_HPP

#include <coaudio/detail/stream_base.hpp>

#include <asio/execution_context.hpp>
#include <asio/is_executor.hpp>

namespace coaudio {

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
template <class Executor = asio::any_io_executor>
class basic_output_stream : public detail::stream_base<Executor, detail::direction::output> {
    using base = detail::stream_base<Executor, detail::direction::output>;

public:
    using executor_type = Executor;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_output_stream<Executor1>;
    };

    /// A stream that is not open yet; see `open`.
    explicit basic_output_stream(const executor_type& ex) : base(ex) {}

    /// Opens a playback stream. Throws `std::system_error`.
    basic_output_stream(const executor_type& ex, const stream_config& cfg) : base(ex) { this->open(cfg); }

    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit basic_output_stream(ExecutionContext& ctx) : base(ctx.get_executor())
    {
    }

    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    basic_output_stream(ExecutionContext& ctx, const stream_config& cfg) : base(ctx.get_executor())
    {
        this->open(cfg);
    }

    basic_output_stream(basic_output_stream&&) noexcept = default;
    basic_output_stream& operator=(basic_output_stream&&) noexcept = default;

    /// Moves from a stream on another executor type. The source must be idle.
    template <class Executor1>
        requires std::is_convertible_v<Executor1, Executor>
    basic_output_stream(basic_output_stream<Executor1>&& other) : base(std::move(other))
    {
    }

    ~basic_output_stream() = default;

    /// Free frames in the ring: how much a write can take without waiting.
    std::size_t frames_writable() noexcept { return this->impl_ ? this->impl_->core->ring().write_available() : 0; }

    /// Writes one or more whole frames from `buffers`.
    ///
    /// Completes as soon as at least one frame has been queued, with the
    /// number of bytes taken (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame are not taken; a non-empty buffer smaller than one
    /// frame fails with `errc::not_whole_frames`.
    ///
    /// Signature: `void(std::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (finished or stopped with a full ring), `errc::device_lost`,
    /// `errc::not_open`, `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class ConstBufferSequence, class Token = default_token_t<executor_type>>
        requires asio::is_const_buffer_sequence<ConstBufferSequence>::value
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        return this->template initiate<detail::transfer_kind::write, false>(
            buffers, asio::buffer_size(buffers), false, {}, std::forward<Token>(token));
    }

    /// Queues all `samples.size() / channels()` interleaved frames of `samples`,
    /// waiting for ring space as needed.
    ///
    /// Signature: `void(std::error_code, std::size_t frames)`.
    /// Errors: as `async_write_some`, plus `errc::format_mismatch` and
    /// `errc::not_whole_frames`.
    /// Cancellation: terminal and partial; frames already queued are counted
    /// and will be played.
    template <class T, std::size_t Extent, class Token = default_token_t<executor_type>>
        requires sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return this->template initiate<detail::transfer_kind::write, true>(
            asio::const_buffer(samples.data(), samples.size_bytes()), samples.size_bytes(), true,
            this->template check_samples<std::remove_const_t<T>>(samples.size()), std::forward<Token>(token));
    }

    /// Completes once every frame written so far has been played and the
    /// stream has finished; the stream is then inactive until `start()`.
    /// Completes at once if the stream is stopped with nothing queued.
    ///
    /// Signature: `void(std::error_code)`.
    /// Errors: `operation_aborted`, `errc::not_running` (stopped with frames
    /// still queued), `errc::device_lost`, `errc::not_open`,
    /// `errc::operation_in_progress` (a write is pending).
    /// Cancellation: terminal and partial; the stream keeps draining.
    template <class Token = default_token_t<executor_type>>
    auto async_drain(Token&& token = Token{})
    {
        return this->template initiate<detail::transfer_kind::drain, false>(
            asio::const_buffer(), std::size_t{1}, true, {}, std::forward<Token>(token));
    }
};

/// A playback stream on `asio::any_io_executor`.
using output_stream = basic_output_stream<>;

} // namespace coaudio

#endif
