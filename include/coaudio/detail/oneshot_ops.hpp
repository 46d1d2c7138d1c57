// coaudio: the coroutines behind the one-shot operations and file streaming:
// sources and sinks, playing, recording, and both at once.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_ONESHOT_OPS_HPP
#define COAUDIO_DETAIL_ONESHOT_OPS_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/coroutine_op.hpp>
#include <coaudio/detail/stream_core.hpp>
#include <coaudio/error.hpp>
#include <coaudio/sample_format.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <new>
#include <span>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The sample value that encodes silence (unsigned 8-bit is offset binary).
template <class T>
constexpr T silence_sample() noexcept
{
    if constexpr (std::is_same_v<T, std::uint8_t>)
        return T{0x80};
    else
        return T{};
}

/// Frames moved per write or read: small enough that the last write's DAC
/// time is fresh, large enough that the io thread wakes rarely.
inline constexpr std::size_t chunk_frames = 2048;

/// The ring the one-shot operations ask for: half a second, so that a busy io
/// thread neither starves the output nor drops input. 0 (the stream's default)
/// when the rate is left to the device.
inline std::size_t oneshot_ring_frames(double rate) noexcept
{
    return rate > 0 ? static_cast<std::size_t>(rate / 2) : 0;
}

// ---- Sources and sinks ----------------------------------------------------------------
//
// A source hands out the frames to play: `next(max_frames, ec)` returns up to
// `max_frames` interleaved frames, empty at the end. A sink takes recorded
// frames: `buffer(max_frames)` is where the next read lands, `commit(frames,
// lost_before)` accepts them, after `lost_before` frames lost just before
// them (written as silence, so the recording keeps time), and `frames()`
// counts what it holds.

/// Plays from memory, without copying.
template <class T>
class span_source {
public:
    span_source(std::span<const T> samples, std::size_t channels)
        : samples_(samples), channels_(channels)
    {
    }

    std::span<const T> next(std::size_t max_frames, std::error_code&) noexcept
    {
        const std::size_t n =
            std::min(max_frames, (samples_.size() - pos_) / channels_) * channels_;
        const auto out = samples_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

private:
    std::span<const T> samples_;
    std::size_t channels_;
    std::size_t pos_ = 0;
};

/// Records into memory. Reads land in place; after a gap the frames read are
/// moved up and the gap is filled with silence, within the span's length.
template <class T>
class span_sink {
public:
    span_sink(std::span<T> samples, std::size_t channels)
        : samples_(samples), channels_(channels), capacity_(samples.size() / channels)
    {
    }

    std::uint64_t frames() const noexcept { return pos_; }

    std::span<T> buffer(std::size_t max_frames) noexcept
    {
        const std::size_t n = std::min<std::size_t>(max_frames, capacity_ - pos_);
        return samples_.subspan(pos_ * channels_, n * channels_);
    }

    std::error_code commit(std::size_t frames, std::uint64_t lost_before) noexcept
    {
        const std::size_t room = capacity_ - pos_;
        const auto gap = static_cast<std::size_t>(std::min<std::uint64_t>(lost_before, room));
        const std::size_t keep = std::min(frames, room - gap);
        if (gap > 0) {
            T* at = samples_.data() + pos_ * channels_;
            std::copy_backward(at, at + keep * channels_, at + (gap + keep) * channels_);
            std::fill_n(at, gap * channels_, silence_sample<T>());
        }
        pos_ += gap + keep;
        return {};
    }

private:
    std::span<T> samples_;
    std::size_t channels_;
    std::size_t capacity_;
    std::size_t pos_ = 0;
};

// ---- Playing ------------------------------------------------------------------------

/// Queues what fits in the output ring without waiting (before a start, so
/// that the first callback already has frames).
template <class T, class Stream, class Source>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>> prefill(Stream& s, Source& source)
{
    std::uint64_t queued = 0;
    std::error_code ec;
    for (std::size_t room = s.frames_writable(); room > 0;) {
        const std::span<const T> chunk = source.next(std::min(room, chunk_frames), ec);
        if (ec || chunk.empty()) break;
        auto [wec, n] = co_await s.async_write_frames(chunk, as_tuple(asio::use_awaitable));
        queued += n;
        if (wec) {
            ec = wec;
            break;
        }
        room -= std::min(room, n);
    }
    co_return std::tuple{ec, queued};
}

/// Plays everything `source` hands out on `s` (output or duplex), then waits
/// until the stream has drained and, with `until_heard`, until the DAC has
/// played the last frame. A stream that is not running is pre-filled and
/// started. Any failure or cancellation aborts the stream at once (within the
/// callback in progress) and completes with the reason (`operation_aborted`
/// when cancelled). Completes with the frames queued.
template <class T, class Stream, class Source>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>> play_from(Stream& s, Source& source,
                                                                      bool until_heard)
{
    const asio::cancellation_state cs = co_await accept_cancellation();
    if (!s.is_open()) co_return std::tuple{make_error_code(errc::not_open), std::uint64_t{0}};
    const stream_params p = s.output_params();
    if (sample_traits<T>::format != p.format)
        co_return std::tuple{make_error_code(errc::format_mismatch), std::uint64_t{0}};

    std::uint64_t played = 0;
    std::error_code ec;
    auto fail = [&](std::error_code why) {
        std::error_code ignored;
        s.abort(ignored);
        return std::tuple{is_cancelled(cs) ? aborted() : why, played};
    };

    if (!s.is_active()) {
        auto [pec, n] = co_await prefill<T>(s, source);
        played += n;
        if (pec || is_cancelled(cs)) co_return fail(pec);
        s.start(ec);
        if (ec) co_return fail(ec);
    }

    // The DAC time just after the last frame, from the last write made while
    // the stream runs (0: none has been; writes before the start cannot know).
    double dac_end = 0;
    for (;;) {
        if (is_cancelled(cs)) co_return fail(aborted());
        const std::span<const T> chunk = source.next(chunk_frames, ec);
        if (ec) co_return fail(ec);
        if (chunk.empty()) break;
        auto [wec, n] = co_await s.async_write_frames(chunk, as_tuple(asio::use_awaitable));
        played += n;
        if (wec || is_cancelled(cs)) co_return fail(wec);
        const double t = s.last_write().output_time;
        dac_end = t > 0 ? t + double(n) / p.sample_rate : 0;
    }

    auto [dec] = co_await s.async_drain(as_tuple(asio::use_awaitable));
    if (dec || is_cancelled(cs)) co_return fail(dec);
    if (!until_heard) co_return std::tuple{std::error_code{}, played};

    // The drain completes once the callback has handed the last frame to the
    // host; it reaches the DAC up to the output latency later. Without a DAC
    // time to go by, wait the latency. Bounded, in case a host's clock is odd.
    double wait = dac_end > 0 ? dac_end - s.time() : p.latency;
    wait = std::clamp(wait, 0.0, p.latency + 1.0);
    if (wait > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(wait)));
        auto [tec] = co_await timer.async_wait(as_tuple(asio::use_awaitable));
        if (tec || is_cancelled(cs)) co_return fail(tec);
    }
    co_return std::tuple{std::error_code{}, played};
}

// ---- Recording ----------------------------------------------------------------------

/// Records `frames` frames from `s` (input or duplex) into `sink`. With
/// `start_stop`, a stream that is not running is started, and stopped at the
/// end. Frames lost on the way are written as silence; with
/// `overflow_is_error` any loss completes the operation with
/// `errc::input_overflow` (after the whole recording). On cancellation or
/// failure what was recorded stays in the sink. Completes with the frames the
/// sink holds.
template <class T, class Stream, class Sink>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>>
record_into(Stream& s, Sink& sink, std::uint64_t frames, bool overflow_is_error, bool start_stop)
{
    const asio::cancellation_state cs = co_await accept_cancellation();
    if (!s.is_open()) co_return std::tuple{make_error_code(errc::not_open), std::uint64_t{0}};
    const stream_params p = s.input_params();
    if (sample_traits<T>::format != p.format)
        co_return std::tuple{make_error_code(errc::format_mismatch), std::uint64_t{0}};

    std::error_code ec;
    bool started = false;
    if (start_stop && !s.is_active()) {
        s.start(ec);
        if (ec) co_return std::tuple{ec, std::uint64_t{0}};
        started = true;
    }
    std::uint64_t overflows = 0;
    while (sink.frames() < frames) {
        if (is_cancelled(cs)) {
            ec = aborted();
            break;
        }
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk_frames, frames - sink.frames()));
        auto [rec, n] =
            co_await s.async_read_frames(sink.buffer(want), as_tuple(asio::use_awaitable));
        std::uint64_t lost = 0;
        if (n > 0) { // a read that moved frames has reported what preceded them
            lost = s.last_read().frames_lost;
            overflows += s.last_read().overflows;
        }
        if (auto e = sink.commit(n, lost)) {
            ec = e;
            break;
        }
        if (rec || is_cancelled(cs)) {
            ec = is_cancelled(cs) ? aborted() : std::error_code(rec);
            break;
        }
    }
    if (started) {
        std::error_code ignored;
        s.stop(ignored);
    }
    if (!ec && overflow_is_error && overflows != 0) ec = make_error_code(errc::input_overflow);
    co_return std::tuple{ec, sink.frames()};
}

// ---- Playing and recording at once ----------------------------------------------------

template <class T, class Stream, class Source>
asio::awaitable<void> playrec_writer(Stream& s, Source& source, std::error_code& first)
{
    auto [ec, n] = co_await play_from<T>(s, source, false);
    (void)n;
    if (ec && !first) first = ec; // play_from has aborted the stream, which wakes the reader
}

template <class T, class Stream, class Sink>
asio::awaitable<void> playrec_reader(Stream& s, Sink& sink, std::uint64_t frames,
                                     bool overflow_is_error, std::error_code& first)
{
    auto [ec, n] = co_await record_into<T>(s, sink, frames, overflow_is_error, false);
    (void)n;
    if (ec && ec != errc::input_overflow) {
        if (!first) first = ec;
        std::error_code ignored;
        s.abort(ignored); // wakes the writer
    } else if (ec && !first) {
        first = ec;
    }
}

/// Plays `play` and records as many frames into `rec` on one duplex stream,
/// aligned: the stream is pre-filled and started here, so the callback that
/// plays frame i of `play` captures frame i of `rec`. Completes with the
/// frames recorded.
template <class TP, class TR, class Stream>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>>
playrec_on(Stream& s, std::span<const TP> play, std::span<TR> rec, bool overflow_is_error)
{
    using namespace awaitable_ops;
    using result = std::tuple<std::error_code, std::uint64_t>;
    const asio::cancellation_state cs = co_await accept_cancellation();
    if (!s.is_open()) co_return result{make_error_code(errc::not_open), 0};
    const stream_params in = s.input_params();
    const stream_params out = s.output_params();
    if (sample_traits<TP>::format != out.format || sample_traits<TR>::format != in.format)
        co_return result{make_error_code(errc::format_mismatch), 0};
    const auto out_ch = static_cast<std::size_t>(out.channels);
    const auto in_ch = static_cast<std::size_t>(in.channels);
    if (play.size() % out_ch != 0) co_return result{make_error_code(errc::not_whole_frames), 0};
    const std::size_t frames = play.size() / out_ch;
    if (rec.size() != frames * in_ch)
        co_return result{std::make_error_code(std::errc::invalid_argument), 0};
    // Alignment needs the first callback: a running stream cannot give it.
    if (s.is_active())
        co_return result{std::make_error_code(std::errc::device_or_resource_busy), 0};

    // Input left from an earlier run would sit ahead of ours.
    std::error_code ec;
    if (s.frames_available() > 0) {
        std::vector<TR> scratch(std::min<std::size_t>(s.frames_available(), chunk_frames) * in_ch);
        while (!ec && s.frames_available() > 0) {
            const std::size_t n = std::min(s.frames_available(), scratch.size() / in_ch);
            std::tie(ec, std::ignore) = co_await s.async_read_frames(
                std::span(scratch).first(n * in_ch), as_tuple(asio::use_awaitable));
        }
        if (ec == errc::not_running) ec = {};
        if (ec || is_cancelled(cs)) co_return result{is_cancelled(cs) ? aborted() : ec, 0};
    }

    span_source<TP> source(play, out_ch);
    span_sink<TR> sink(rec, in_ch);
    const std::uint64_t underflows = s.counters().underflows;
    auto [pec, queued] = co_await prefill<TP>(s, source);
    (void)queued;
    if (!pec && !is_cancelled(cs)) s.start(pec);
    if (pec || is_cancelled(cs)) {
        std::error_code ignored;
        s.abort(ignored);
        co_return result{is_cancelled(cs) ? aborted() : pec, 0};
    }

    std::error_code first;
    co_await (playrec_writer<TP>(s, source, first) &&
              playrec_reader<TR>(s, sink, frames, overflow_is_error, first));
    if (is_cancelled(cs))
        ec = aborted();
    else if (first)
        ec = first;
    else if (s.counters().underflows != underflows)
        ec = make_error_code(
            errc::output_underflow); // silence went out mid-way: the alignment is lost
    co_return result{ec, sink.frames()};
}

} // namespace coaudio::detail

#endif
