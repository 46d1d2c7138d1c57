// coaudio: input and output streams at a rate of the application's, over a
// float32 stream at the device's rate, converting on the io thread.
//
// Optional, as coaudio/resample.hpp: needs libsoxr (with CMake, link
// coaudio::soxr). coaudio/coaudio.hpp does not include this header.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_RESAMPLED_STREAM_HPP
#define COAUDIO_RESAMPLED_STREAM_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/compose.hpp>
#include <coaudio/detail/resampled_read.hpp>
#include <coaudio/detail/resampled_write.hpp>
#include <coaudio/detail/resampling.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/resample.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A capture stream whose frames arrive at the application's rate: an inner
/// float32 `basic_input_stream` runs at the device's rate, and its frames are
/// converted by libsoxr on the io thread, in the read operations, never in the
/// audio callback. An Asio AsyncReadStream.
///
/// Time and loss, at the application's rate: converted frame k stands for
/// device frame k × device rate / rate (libsoxr compensates its filter's
/// delay), so `last_read().input_time` is the ADC time of the read's first
/// frame, from the inner stream's times. Frames lost before a read of the
/// inner stream are fed through the converter as silence, so what follows
/// keeps time; the read that begins after the gap reports it, with
/// `frames_lost` in frames at the application's rate (the reports add up to
/// the device's total loss times rate / device rate, rounded once), and
/// completes with `errc::input_overflow` where the inner stream's
/// `overflow_is_error` asks for that. The gap's edges are softened by the
/// filter, a few milliseconds either side.
///
/// A stop and a start are not a gap: the converter runs on across them, and
/// the read that hands out the last frames from before the stop is dated from
/// the times after the start (late by the pause). Close and open again for a
/// fresh start.
///
/// One read may be outstanding at a time. `start`, `stop`, `close` and
/// `cancel` are forwarded; the counters (at the device's rate) and the rest
/// are on `next_layer()`.
template <class Executor = asio::any_io_executor>
class basic_resampled_input_stream
    : public detail::resampled_base<Executor, basic_input_stream<Executor>,
                                    detail::resampled_input_state<Executor>> {
    using base = detail::resampled_base<Executor, basic_input_stream<Executor>,
                                        detail::resampled_input_state<Executor>>;

public:
    using base::base;

    /// What the last completed read found, at the application's rate.
    read_status last_read() const noexcept
    {
        return this->st_ ? this->st_->last_read : read_status{};
    }

    /// Converted frames waiting, ready for a read without a wait.
    std::size_t frames_available() const noexcept
    {
        return this->st_ ? this->st_->fifo.available() : 0;
    }

    /// Reads one or more whole frames (float32) into `buffers`, at the
    /// application's rate. Completes once at least one has been copied, with
    /// the bytes read; stops short of a gap.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: as `basic_input_stream::async_read_some`.
    /// Cancellation: terminal and partial; frames read from the device and
    /// not yet handed out wait for the next read.
    template <class MutableBufferSequence, class Token = default_token_t<Executor>>
    requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_bytes(asio::buffer_size(buffers), ec);
        return launch<false>(detail::float_buffers_target<MutableBufferSequence>{buffers, frames},
                             false, ec, std::forward<Token>(token));
    }

    /// Reads `samples.size() / channels()` interleaved frames at the
    /// application's rate. Completes when the span is full, or early with
    /// success where frames were lost after the ones it read; the next read
    /// reports the gap. `last_read().input_time` is the ADC time of the
    /// first frame.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `basic_input_stream::async_read_frames`.
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_read_frames(std::span<float, Extent> samples, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_samples(samples.size(), ec);
        return launch<true>(detail::float_span_target{std::span<float>(samples), frames}, true, ec,
                            std::forward<Token>(token));
    }

private:
    template <bool CountFrames, class Target, class Token>
    auto launch(Target target, bool all, std::error_code precheck, Token&& token)
    {
        return detail::async_compose_untracked<Token, void(error_code, std::size_t)>(
            detail::resampled_read_op<Executor, Target, CountFrames>(this->st_, std::move(target),
                                                                     all, precheck),
            std::forward<Token>(token), this->ex_);
    }
};

/// A playback stream that takes frames at the application's rate: an inner
/// float32 `basic_output_stream` runs at the device's rate, and the frames
/// are converted by libsoxr on the io thread, in the write operations, never
/// in the audio callback. An Asio AsyncWriteStream.
///
/// The filter holds back a few milliseconds of what was written; the next
/// write or `async_drain` (which flushes the filter) sends them on.
/// `last_write().output_time` is the DAC time of the write's first frame:
/// application frame j stands for device frame j × device rate / rate.
/// After a drain the next frame begins a new signal.
///
/// One write or drain may be outstanding at a time.
template <class Executor = asio::any_io_executor>
class basic_resampled_output_stream
    : public detail::resampled_base<Executor, basic_output_stream<Executor>,
                                    detail::resampled_output_state<Executor>> {
    using base = detail::resampled_base<Executor, basic_output_stream<Executor>,
                                        detail::resampled_output_state<Executor>>;

public:
    using base::base;

    /// What the last completed write learned, at the application's rate.
    write_status last_write() const noexcept
    {
        return this->st_ ? this->st_->last_write : write_status{};
    }

    /// Writes one or more whole frames (float32) from `buffers`: as many as
    /// the inner ring takes now, converted (at least one frame, at most 2048).
    /// Completes once their converted frames are queued, with the bytes taken.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: as `basic_output_stream::async_write_some`.
    /// Cancellation: terminal and partial.
    template <class ConstBufferSequence, class Token = default_token_t<Executor>>
    requires asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
    async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_bytes(asio::buffer_size(buffers), ec);
        return launch<false, false>(
            detail::const_float_buffers_source<ConstBufferSequence>{buffers, frames}, false, ec,
            std::forward<Token>(token));
    }

    /// Converts and queues all `samples.size() / channels()` interleaved
    /// frames at the application's rate, waiting for ring space as needed.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `basic_output_stream::async_write_frames`.
    /// Cancellation: terminal and partial; frames taken by the converter are
    /// counted, and play with the next write or drain.
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_write_frames(std::span<const float, Extent> samples, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_samples(samples.size(), ec);
        return launch<true, false>(
            detail::const_float_span_source{std::span<const float>(samples), frames}, true, ec,
            std::forward<Token>(token));
    }
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_write_frames(std::span<float, Extent> samples, Token&& token = Token{})
    {
        return async_write_frames(std::span<const float>(samples), std::forward<Token>(token));
    }

    /// Flushes the filter, queues the rest, and completes once everything
    /// written has played and the stream has finished (as
    /// `basic_output_stream::async_drain`).
    ///
    /// Signature: `void(coaudio::error_code)`.
    template <class Token = default_token_t<Executor>>
    auto async_drain(Token&& token = Token{})
    {
        return detail::async_compose_untracked<Token, void(error_code)>(
            detail::resampled_write_op<Executor, detail::const_float_span_source, true, true>(
                this->st_, {{}, 0}, true, {}),
            std::forward<Token>(token), this->ex_);
    }

private:
    template <bool CountFrames, bool Drain, class Source, class Token>
    auto launch(Source source, bool all, std::error_code precheck, Token&& token)
    {
        return detail::async_compose_untracked<Token, void(error_code, std::size_t)>(
            detail::resampled_write_op<Executor, Source, CountFrames, Drain>(
                this->st_, std::move(source), all, precheck),
            std::forward<Token>(token), this->ex_);
    }
};

/// Resampled streams on `asio::any_io_executor`.
using resampled_input_stream = basic_resampled_input_stream<>;
using resampled_output_stream = basic_resampled_output_stream<>;

} // namespace coaudio

#endif
