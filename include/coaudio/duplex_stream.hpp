// coaudio: full duplex as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DUPLEX_STREAM_HPP
#define COAUDIO_DUPLEX_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

#include <cstddef>
#include <span>
#include <type_traits>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A full-duplex stream: input and output on one PortAudio stream and one
/// clock, with the read operations of `basic_input_stream` and the write
/// operations of `basic_output_stream`. One read and one write may be
/// outstanding at once, each parked on its own doorbell.
///
/// The callback captures and plays in the same call, so a frame read can be
/// written back with the lowest latency the host offers: the input latency
/// plus one block plus the output latency.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Opening, control and status are shared by every stream
/// (`detail::stream_base`); `params()` and `latency()` give the input's. The
/// operations are this class's own, and each behaves, completes and cancels
/// exactly as the one of the same name on `basic_input_stream` or
/// `basic_output_stream`, which documents it.
template <class Executor = asio::any_io_executor>
class basic_duplex_stream : public detail::stream_base<Executor, detail::direction::duplex> {
    using base = detail::stream_base<Executor, detail::direction::duplex>;
    using count_signature = void(error_code, std::size_t);

public:
    using base::base;
    using typename base::executor_type;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_duplex_stream<Executor1>;
    };

    // ---- the input half ---------------------------------------------------

    /// Frames waiting in the input ring.
    std::size_t frames_available() const noexcept { return this->readable_frames(); }
    /// What the last completed read found (see `basic_input_stream::last_read`).
    read_status last_read() const noexcept { return this->read_record(); }
    /// The input half's parameters.
    detail::stream_params input_params() const { return this->input_half(); }

    /// Reads one or more whole frames: `basic_input_stream::async_read_some`.
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    template <class MutableBufferSequence,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(typename base::initiate_read_some(this),
                                                            token, buffers);
    }

    /// Reads interleaved frames: `basic_input_stream::async_read_frames`.
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    template <sample_type T, std::size_t Extent,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    auto async_read_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(
            typename base::initiate_read_frames(this), token, samples);
    }

    /// Reads non-interleaved frames, one span per channel.
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    template <sample_type T,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    auto async_read_frames(std::span<const std::span<T>> channels, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(
            typename base::initiate_read_frames(this), token, channels);
    }

    // ---- the output half --------------------------------------------------

    /// Free frames in the output ring.
    std::size_t frames_writable() const noexcept { return this->writable_frames(); }
    /// When the last completed write's first frame is expected at the DAC.
    write_status last_write() const noexcept { return this->write_record(); }
    /// The output half's parameters.
    detail::stream_params output_params() const { return this->output_half(); }

    /// Writes one or more whole frames: `basic_output_stream::async_write_some`.
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    template <class ConstBufferSequence,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    requires asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
    async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(
            typename base::initiate_write_some(this), token, buffers);
    }

    /// Queues interleaved frames: `basic_output_stream::async_write_frames`.
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    template <class T, std::size_t Extent,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    requires sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(
            typename base::initiate_write_frames(this), token, samples);
    }

    /// Queues non-interleaved frames, one span per channel.
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    template <class T,
              asio::completion_token_for<count_signature> Token = default_token_t<executor_type>>
    requires sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<const std::span<T>> channels, Token&& token = Token{})
    {
        return asio::async_initiate<Token, count_signature>(
            typename base::initiate_write_frames(this), token, channels);
    }

    /// Completes once everything written has played and the stream has
    /// finished: `basic_output_stream::async_drain`. Signature: `void(coaudio::error_code)`.
    template <asio::completion_token_for<void(error_code)> Token = default_token_t<executor_type>>
    auto async_drain(Token&& token = Token{})
    {
        return asio::async_initiate<Token, void(error_code)>(typename base::initiate_drain(this),
                                                             token);
    }
};

/// A full-duplex stream on `asio::any_io_executor`.
using duplex_stream = basic_duplex_stream<>;

} // namespace coaudio

#endif
