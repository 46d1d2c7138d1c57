// coaudio: streaming sound files to and from streams in blocks, without
// loading a whole file; the files themselves are coaudio/sound_file.hpp.
//
// Optional: needs libsndfile (Debian: libsndfile1-dev). With CMake, link
// coaudio::sndfile, which exists when libsndfile was found; it defines
// COAUDIO_HAS_SNDFILE=1. coaudio/coaudio.hpp does not include this header.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SNDFILE_HPP
#define COAUDIO_SNDFILE_HPP

#if !__has_include(<sndfile.h>)
#  error                                                                                           \
      "coaudio/sndfile.hpp needs libsndfile (Debian: libsndfile1-dev); with CMake, link coaudio::sndfile"
#endif

#include <sndfile.h>

#include <coaudio/config.hpp>
#include <coaudio/detail/oneshot_ops.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/sound_file.hpp>
#include <coaudio/stream_config.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

// ---- Streaming files ------------------------------------------------------------------------

namespace detail {

/// Plays a file a block at a time: one block of buffer, whatever the file's length.
template <class T>
class file_source {
public:
    explicit file_source(sound_file& f)
        : file_(f), channels_(static_cast<std::size_t>(f.channels())),
          buffer_(chunk_frames * channels_)
    {
    }

    std::span<const T> next(std::size_t max_frames, std::error_code& ec)
    {
        const std::size_t want = std::min(max_frames, chunk_frames);
        const std::size_t got =
            file_.read_frames(std::span<T>(buffer_).first(want * channels_), ec);
        return std::span<const T>(buffer_).first(got * channels_);
    }

private:
    sound_file& file_;
    std::size_t channels_;
    std::vector<T> buffer_;
};

/// Records into a file a block at a time; lost input becomes silence.
template <class T>
class file_sink {
public:
    file_sink(sound_file& f, std::uint64_t total)
        : file_(f), channels_(static_cast<std::size_t>(f.channels())), total_(total),
          buffer_(chunk_frames * channels_)
    {
    }

    std::uint64_t frames() const noexcept { return written_; }

    std::span<T> buffer(std::size_t max_frames) noexcept
    {
        return std::span<T>(buffer_).first(std::min(max_frames, chunk_frames) * channels_);
    }

    std::error_code commit(std::size_t frames, std::uint64_t lost_before)
    {
        std::error_code ec;
        std::uint64_t gap = std::min(lost_before, total_ - written_);
        if (gap > 0 && silence_.empty())
            silence_.assign(chunk_frames * channels_, silence_sample<T>());
        while (gap > 0 && !ec) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(gap, chunk_frames));
            const std::size_t put =
                file_.write_frames(std::span<const T>(silence_).first(n * channels_), ec);
            written_ += put;
            gap -= put;
        }
        const auto keep =
            static_cast<std::size_t>(std::min<std::uint64_t>(frames, total_ - written_));
        if (!ec && keep > 0)
            written_ += file_.write_frames(std::span<const T>(buffer_).first(keep * channels_), ec);
        return ec;
    }

private:
    sound_file& file_;
    std::size_t channels_;
    std::uint64_t total_;
    std::uint64_t written_ = 0;
    std::vector<T> buffer_;
    std::vector<T> silence_;
};

using file_result = std::tuple<std::error_code, std::uint64_t>;

/// A stream and a file agree on channels and rate; libsndfile converts the
/// samples. With libsoxr a float32 stream may run at another rate than the
/// file's: the frames are converted on the way.
inline std::error_code check_file_matches(const stream_params& p, const sound_file& f) noexcept
{
    if (!f.is_open()) return make_error_code(errc::not_open);
    if (f.channels() != p.channels) return make_error_code(errc::invalid_channels);
    if (std::abs(f.sample_rate() - p.sample_rate) > 0.5 &&
        !(converts_rates && p.format == sample_format::float32))
        return make_error_code(errc::invalid_sample_rate);
    return {};
}

template <class T, class Stream>
asio::awaitable<file_result> play_file_as(Stream& s, sound_file& f)
{
    file_source<T> source(f);
    if constexpr (std::is_same_v<T, float>)
        co_return co_await play_at_rate(s, source, f.sample_rate(), f.channels());
    else
        co_return co_await play_from<T>(s, source, true);
}

template <class Stream>
asio::awaitable<file_result> play_file_on(Stream& s, sound_file& f)
{
    if (!s.is_open()) co_return file_result{make_error_code(errc::not_open), 0};
    const stream_params p = s.output_params();
    if (auto ec = check_file_matches(p, f)) co_return file_result{ec, 0};
    switch (p.format) {
    case sample_format::float32: co_return co_await play_file_as<float>(s, f);
    case sample_format::int32: co_return co_await play_file_as<std::int32_t>(s, f);
    case sample_format::int16: co_return co_await play_file_as<std::int16_t>(s, f);
    default: co_return file_result{make_error_code(errc::format_mismatch), 0};
    }
}

template <class T, class Stream>
asio::awaitable<file_result> record_file_as(Stream& s, sound_file& f, std::uint64_t frames)
{
    file_sink<T> sink(f, frames);
    const bool overflow_is_error = s.input_params().overflow_is_error;
    if constexpr (std::is_same_v<T, float>)
        co_return co_await record_at_rate(s, sink, frames, f.sample_rate(), f.channels(),
                                          overflow_is_error);
    else
        co_return co_await record_into<T>(s, sink, frames, overflow_is_error, true);
}

template <class Stream>
asio::awaitable<file_result> record_file_on(Stream& s, sound_file& f, std::uint64_t frames)
{
    if (!s.is_open()) co_return file_result{make_error_code(errc::not_open), 0};
    const stream_params p = s.input_params();
    if (auto ec = check_file_matches(p, f)) co_return file_result{ec, 0};
    switch (p.format) {
    case sample_format::float32: co_return co_await record_file_as<float>(s, f, frames);
    case sample_format::int32: co_return co_await record_file_as<std::int32_t>(s, f, frames);
    case sample_format::int16: co_return co_await record_file_as<std::int16_t>(s, f, frames);
    default: co_return file_result{make_error_code(errc::format_mismatch), 0};
    }
}

inline asio::awaitable<std::tuple<std::error_code>> play_file_path(std::filesystem::path path,
                                                                   stream_config o)
{
    std::error_code ec;
    sound_file f = sound_file::open(path, ec);
    if (ec) co_return std::tuple{ec};
    basic_output_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    if (o.mapping.empty()) o.channels = f.channels(); // a mapping must name as many
    open_converting(s, oneshot_config(std::move(o), f.sample_rate()), ec);
    if (ec) co_return std::tuple{ec};
    auto [pec, n] = co_await play_file_on(s, f);
    (void)n;
    co_return std::tuple{pec};
}

inline asio::awaitable<file_result>
record_file_path(std::filesystem::path path, std::uint64_t frames, double rate, stream_config o)
{
    std::error_code ec;
    // The stream first: a device that refuses the settings leaves no file behind.
    basic_input_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    open_converting(s, oneshot_config(std::move(o), rate), ec);
    if (ec) co_return file_result{ec, 0};
    // The file at the rate asked for; the device's own where none was.
    sound_file f = sound_file::create(path, rate > 0 ? rate : s.sample_rate(),
                                      s.input_params().channels, 0, ec);
    if (ec) co_return file_result{ec, 0};
    auto [rec, n] = co_await record_file_on(s, f, frames);
    std::error_code close_ec;
    f.close(close_ec);
    co_return file_result{rec ? rec : close_ec, n};
}

} // namespace detail

/// Plays a sound file on an output device, streaming it a block at a time,
/// and completes when its last frame has been heard.
///
/// Opens a float32 stream with `stream` (as the one-shot operations of
/// coaudio/oneshot.hpp do) at the file's rate, with the file's channel count
/// (or a `mapping` of as many channels); libsndfile converts the samples. A
/// device that refuses the rate fails the operation, unless coaudio is built
/// with libsoxr (coaudio::soxr): then the stream runs at the device's default
/// rate and the frames are converted on the io thread (coaudio/resample.hpp).
/// A device that refuses the channels fails it.
///
/// Signature: `void(coaudio::error_code)`.
/// Errors: those of `sound_file::open` (`std::errc::no_such_file_or_directory`,
/// `SF_ERR_UNRECOGNISED_FORMAT`, ...), those of opening a stream
/// (`errc::invalid_sample_rate` and `errc::invalid_channels` for a file the
/// device refuses, `errc::device_not_found`, ...), `errc::device_lost`,
/// read errors, `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; the sound stops at once.
template <detail::executor_or_context Target,
          class Token = default_token_t<detail::executor_of_t<Target>>>
auto async_play_file(Target&& target, std::filesystem::path path, stream_config stream = {},
                     Token&& token = Token{})
{
    return detail::start_coroutine(detail::executor_of(std::forward<Target>(target)),
                                   std::forward<Token>(token),
                                   [path = std::move(path), stream = std::move(stream)] {
                                       return detail::play_file_path(path, stream);
                                   });
}

/// Records `frames` frames of `stream.channels` channels from an input
/// device into a new sound file, streaming a block at a time. The stream is
/// opened as the one-shot operations of coaudio/oneshot.hpp open theirs. The
/// file's format is the one its name implies (see `file_format_for`); for
/// another, create the file with `sound_file::create` and record into it
/// with the stream form below. The file is at `rate` (0:
/// the device's default rate); a device that refuses `rate` fails the
/// operation, unless coaudio is built with libsoxr: then the device runs at
/// its default rate and the frames are converted on the io thread. Lost input
/// is written as silence, so the file keeps time. The file is complete
/// (header finished) when the operation completes, also after a cancellation
/// or an error.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_written)`.
/// Errors: those of opening a stream, those of `sound_file::create`, write
/// errors, `errc::device_lost`, `errc::input_overflow` (with
/// `stream.overflow_is_error`), `errc::stalled` (with
/// `stream.stall_timeout`), `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; the file keeps what was recorded.
template <detail::executor_or_context Target,
          class Token = default_token_t<detail::executor_of_t<Target>>>
auto async_record_file(Target&& target, std::filesystem::path path, std::uint64_t frames,
                       double rate, stream_config stream = {}, Token&& token = Token{})
{
    return detail::start_coroutine(
        detail::executor_of(std::forward<Target>(target)), std::forward<Token>(token),
        [path = std::move(path), frames, rate, stream = std::move(stream)] {
            return detail::record_file_path(path, frames, rate, stream);
        });
}

/// Streams `file` from its read position to its end into `stream`, in the
/// stream's format (float32, int32 or int16), and completes when the last
/// frame has been heard. The file's channels must be the stream's
/// (`errc::invalid_channels`), and so must its rate
/// (`errc::invalid_sample_rate`), except on a float32 stream with libsoxr,
/// where the frames are converted to the stream's rate; `frames_played`
/// then counts the file's frames. A stream that is
/// not running is pre-filled and started; at the end it has drained. Both
/// must outlive the operation.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_played)`.
/// Cancellation: terminal and partial; the stream is aborted.
template <class Executor, class Token = default_token_t<Executor>>
auto async_play_file(basic_output_stream<Executor>& stream, sound_file& file,
                     Token&& token = Token{})
{
    return detail::start_coroutine(stream.get_executor(), std::forward<Token>(token),
                                   [&stream, &file] { return detail::play_file_on(stream, file); });
}

/// Records `frames` frames from `stream` into `file`, in the stream's format
/// (float32, int32 or int16), a block at a time. The file's channels and rate
/// must be the stream's, except the rate on a float32 stream with libsoxr:
/// the frames are converted to the file's rate, and `frames` counts the
/// file's frames. A stream that is not running is started here and
/// stopped at the end. Lost input is written as silence. The file stays open.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_written)`.
/// Cancellation: terminal and partial; what was recorded is in the file.
template <class Executor, class Token = default_token_t<Executor>>
auto async_record_file(basic_input_stream<Executor>& stream, sound_file& file, std::uint64_t frames,
                       Token&& token = Token{})
{
    return detail::start_coroutine(
        stream.get_executor(), std::forward<Token>(token),
        [&stream, &file, frames] { return detail::record_file_on(stream, file, frames); });
}

} // namespace coaudio

#endif
