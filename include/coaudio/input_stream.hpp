// coaudio: capture as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_INPUT_STREAM_HPP
#define COAUDIO_INPUT_STREAM_HPP

#include <coaudio/detail/stream_base.hpp>

#include <asio/execution_context.hpp>
#include <asio/is_executor.hpp>

namespace coaudio {

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
template <class Executor = asio::any_io_executor>
class basic_input_stream : public detail::stream_base<Executor, detail::direction::input> {
    using base = detail::stream_base<Executor, detail::direction::input>;

public:
    using executor_type = Executor;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_input_stream<Executor1>;
    };

    /// A stream that is not open yet; see `open`.
    explicit basic_input_stream(const executor_type& ex) : base(ex) {}

    /// Opens a capture stream. Throws `std::system_error`.
    basic_input_stream(const executor_type& ex, const stream_config& cfg) : base(ex) { this->open(cfg); }

    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit basic_input_stream(ExecutionContext& ctx) : base(ctx.get_executor())
    {
    }

    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    basic_input_stream(ExecutionContext& ctx, const stream_config& cfg) : base(ctx.get_executor())
    {
        this->open(cfg);
    }

    basic_input_stream(basic_input_stream&&) noexcept = default;
    basic_input_stream& operator=(basic_input_stream&&) noexcept = default;

    /// Moves from a stream on another executor type. The source must be idle.
    template <class Executor1>
        requires std::is_convertible_v<Executor1, Executor>
    basic_input_stream(basic_input_stream<Executor1>&& other) : base(std::move(other))
    {
    }

    ~basic_input_stream() = default;

    /// Frames waiting in the ring.
    std::size_t frames_available() noexcept { return this->impl_ ? this->impl_->core->ring().read_available() : 0; }

    /// What the last completed read found before its first frame: frames
    /// lost and overflow events since the previous read's data.
    read_status last_read() const noexcept { return this->impl_ ? this->impl_->last_read : read_status{}; }

    /// Reads one or more whole frames into `buffers`.
    ///
    /// Completes as soon as at least one frame has been copied, with the
    /// number of bytes read (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame that fits are left untouched; a non-empty buffer
    /// smaller than one frame fails with `errc::not_whole_frames`.
    ///
    /// Signature: `void(std::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (stopped, nothing buffered), `errc::device_lost`, `errc::not_open`,
    /// `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class MutableBufferSequence, class Token = default_token_t<executor_type>>
        requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        return this->template initiate<detail::transfer_kind::read, false>(
            buffers, asio::buffer_size(buffers), false, {}, std::forward<Token>(token));
    }

    /// Reads `samples.size() / channels()` interleaved frames into `samples`.
    ///
    /// Completes when the span is full, or early, with fewer frames, when
    /// lost frames follow the ones read (the gap is then reported by the next
    /// read, in order with its data) or when an error ends it.
    ///
    /// Signature: `void(std::error_code, std::size_t frames)`.
    /// Errors: as `async_read_some`, plus `errc::format_mismatch` (T is not
    /// the stream's format) and `errc::not_whole_frames` (size not a
    /// multiple of the channel count).
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <sample_type T, std::size_t Extent, class Token = default_token_t<executor_type>>
    auto async_read_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return this->template initiate<detail::transfer_kind::read, true>(
            asio::mutable_buffer(samples.data(), samples.size_bytes()), samples.size_bytes(), true,
            this->template check_samples<T>(samples.size()), std::forward<Token>(token));
    }
};

/// A capture stream on `asio::any_io_executor`.
using input_stream = basic_input_stream<>;

} // namespace coaudio

#endif
