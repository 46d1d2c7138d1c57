// coaudio: the one-shot operations on a device of their own: opening it, at the rate
// asked for or at its own with conversion, and the coroutines that play and record.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_ONESHOT_DEVICE_HPP
#define COAUDIO_DETAIL_ONESHOT_DEVICE_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/oneshot_ops.hpp>
#include <coaudio/duplex_stream.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>

#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
#  include <coaudio/detail/resampling.hpp>
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

template <class T>
concept io_executor = asio::execution::is_executor<T>::value || asio::is_executor<T>::value;

template <class T>
concept execution_context_ref = std::is_convertible_v<T&, asio::execution_context&>;

/// What the operations that open a device of their own run on: an executor,
/// or an execution context (an `io_context`), whose executor they then use.
template <class T>
concept executor_or_context =
    io_executor<std::remove_cvref_t<T>> || execution_context_ref<std::remove_reference_t<T>>;

template <class T>
decltype(auto) executor_of(T&& target) noexcept
{
    if constexpr (io_executor<std::remove_cvref_t<T>>)
        return std::forward<T>(target);
    else
        return target.get_executor();
}

template <class T>
using executor_of_t = std::remove_cvref_t<decltype(executor_of(std::declval<T>()))>;

/// Interleaved samples that are not whole frames, or channel counts below one.
inline std::error_code check_interleaved(std::size_t samples, int channels) noexcept
{
    if (channels < 1) return make_error_code(errc::invalid_channels);
    if (samples % static_cast<std::size_t>(channels) != 0)
        return make_error_code(errc::not_whole_frames);
    return {};
}

/// Whether the one-shot and file operations convert sample rates: with
/// libsoxr (coaudio::soxr, COAUDIO_HAS_SOXR=1).
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
inline constexpr bool converts_rates = true;
#else
inline constexpr bool converts_rates = false;
#endif

inline void use_device_rate(stream_config& c) noexcept
{
    c.sample_rate = 0;
}
inline void use_device_rate(duplex_config& c) noexcept
{
    c.input.sample_rate = 0;
    c.output.sample_rate = 0;
}

/// Opens `s` with `cfg`. With libsoxr, a device that refuses the rate asked
/// for is opened at its default rate instead, and the operation converts.
template <class Stream, class Config>
void open_converting(Stream& s, Config cfg, std::error_code& ec)
{
    s.open(cfg, ec);
    if (converts_rates && ec == errc::invalid_sample_rate) {
        use_device_rate(cfg);
        s.open(cfg, ec);
    }
}

/// The stream a one-shot operation opens: the caller's settings, in float32 at
/// `rate`, with a ring of half a second unless one was asked for.
inline stream_config oneshot_config(stream_config cfg, double rate)
{
    cfg.format = sample_format::float32;
    cfg.sample_rate = rate;
    if (cfg.ring_frames == 0) cfg.ring_frames = oneshot_ring_frames(rate);
    return cfg;
}

/// Whether frames at `rate` need converting to or from `device_rate`
/// (0: the device's rate was asked for).
inline bool needs_conversion(double rate, double device_rate) noexcept
{
    return converts_rates && rate > 0 && std::abs(rate - device_rate) > 0.5;
}

/// Plays float frames at `rate` from `source` on `s`, converted to the
/// stream's rate where they differ. Completes with the source frames played.
template <class Stream, class Source>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>>
play_at_rate(Stream& s, Source& source, [[maybe_unused]] double rate, [[maybe_unused]] int channels)
{
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
    const double device_rate = s.output_params().sample_rate;
    if (needs_conversion(rate, device_rate)) {
        std::error_code ec;
        resampling_source<Source> converted(source, rate, device_rate, channels, ec);
        if (ec) co_return std::tuple{ec, std::uint64_t{0}};
        auto [pec, n] = co_await play_from<float>(s, converted, true);
        co_return std::tuple{pec, converted.source_frames(n)};
    }
#endif
    co_return co_await play_from<float>(s, source, true);
}

/// Records `frames` float frames at `rate` from `s` into `sink`, converted
/// from the stream's rate where they differ.
template <class Stream, class Sink>
asio::awaitable<std::tuple<std::error_code, std::uint64_t>>
record_at_rate(Stream& s, Sink& sink, std::uint64_t frames, [[maybe_unused]] double rate,
               [[maybe_unused]] int channels, bool overflow_is_error)
{
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
    const double device_rate = s.input_params().sample_rate;
    if (needs_conversion(rate, device_rate)) {
        std::error_code ec;
        resampling_sink<Sink> converted(sink, device_rate, rate, channels, ec);
        if (ec) co_return std::tuple{ec, std::uint64_t{0}};
        co_return co_await record_into<float>(s, converted, frames, overflow_is_error, true);
    }
#endif
    co_return co_await record_into<float>(s, sink, frames, overflow_is_error, true);
}

inline asio::awaitable<std::tuple<std::error_code>> play_buffer(std::span<const float> samples,
                                                                double rate, stream_config o)
{
    basic_output_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    std::error_code ec;
    open_converting(s, oneshot_config(std::move(o), rate), ec);
    if (ec) co_return std::tuple{ec};
    const int channels = s.output_params().channels; // a mapping's size, where one was given
    if (auto cec = check_interleaved(samples.size(), channels)) co_return std::tuple{cec};
    span_source<float> source(samples, static_cast<std::size_t>(channels));
    auto [pec, n] = co_await play_at_rate(s, source, rate, channels);
    (void)n;
    co_return std::tuple{pec};
}

inline asio::awaitable<std::tuple<std::error_code, std::vector<float>>>
record_buffer(std::size_t frames, double rate, stream_config o)
{
    using result = std::tuple<std::error_code, std::vector<float>>;
    basic_input_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    std::error_code ec;
    open_converting(s, oneshot_config(std::move(o), rate), ec);
    if (ec) co_return result{ec, {}};
    const stream_params p = s.input_params();
    const auto channels = static_cast<std::size_t>(p.channels);
    std::vector<float> recording;
    if (frames > recording.max_size() / channels)
        co_return result{std::make_error_code(std::errc::value_too_large), {}};
    recording.resize(frames * channels);
    span_sink<float> sink{std::span<float>(recording), channels};
    auto [rec, n] = co_await record_at_rate(s, sink, frames, rate, p.channels, p.overflow_is_error);
    recording.resize(static_cast<std::size_t>(n) * channels);
    co_return result{rec, std::move(recording)};
}

#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
/// Play-and-record through converters: the whole of `play` is converted to
/// the device's rate first, and the recording back after, so the alignment
/// of the device-rate run carries over (libsoxr compensates its delay).
template <class Stream>
asio::awaitable<std::tuple<std::error_code, std::vector<float>>>
playrec_converted(Stream& s, std::span<const float> play, std::size_t frames, double rate,
                  double device_rate, int out_channels, int in_channels, bool overflow_is_error)
{
    using result = std::tuple<std::error_code, std::vector<float>>;
    std::error_code ec;
    const std::vector<float> device_play =
        resample(play, rate, device_rate, out_channels, resample_quality::high, ec);
    if (ec) co_return result{ec, {}};
    const auto in_ch = static_cast<std::size_t>(in_channels);
    const std::size_t device_frames = device_play.size() / static_cast<std::size_t>(out_channels);
    std::vector<float> device_rec(device_frames * in_ch);
    auto [rec, n] = co_await playrec_on<float, float>(s, std::span<const float>(device_play),
                                                      std::span(device_rec), overflow_is_error);
    device_rec.resize(static_cast<std::size_t>(n) * in_ch);
    std::vector<float> recording =
        resample(device_rec, device_rate, rate, in_channels, resample_quality::high, ec);
    if (ec) co_return result{rec ? std::error_code(rec) : ec, {}};
    // A whole run gives exactly as many frames as were played.
    if (n == device_frames) recording.resize(frames * in_ch, 0.0f);
    co_return result{rec, std::move(recording)};
}
#endif

inline asio::awaitable<std::tuple<std::error_code, std::vector<float>>>
playrec_buffer(std::span<const float> play, double rate, duplex_config o)
{
    using result = std::tuple<std::error_code, std::vector<float>>;
    basic_duplex_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    std::error_code ec;
    open_converting(s,
                    duplex_config{.input = oneshot_config(std::move(o.input), rate),
                                  .output = oneshot_config(std::move(o.output), rate)},
                    ec);
    if (ec) co_return result{ec, {}};
    const int out_channels = s.output_params().channels;
    const stream_params in = s.input_params();
    if (auto cec = check_interleaved(play.size(), out_channels)) co_return result{cec, {}};
    const std::size_t frames = play.size() / static_cast<std::size_t>(out_channels);
#if defined(COAUDIO_HAS_SOXR) && COAUDIO_HAS_SOXR
    const double device_rate = s.output_params().sample_rate;
    if (needs_conversion(rate, device_rate))
        co_return co_await playrec_converted(s, play, frames, rate, device_rate, out_channels,
                                             in.channels, in.overflow_is_error);
#endif
    const auto in_channels = static_cast<std::size_t>(in.channels);
    std::vector<float> recording(frames * in_channels);
    auto [rec, n] =
        co_await playrec_on<float, float>(s, play, std::span(recording), in.overflow_is_error);
    recording.resize(static_cast<std::size_t>(n) * in_channels);
    co_return result{rec, std::move(recording)};
}

template <class T, class Stream>
asio::awaitable<std::tuple<std::error_code, std::size_t>> play_span(Stream& s,
                                                                    std::span<const T> samples)
{
    using result = std::tuple<std::error_code, std::size_t>;
    if (!s.is_open()) co_return result{make_error_code(errc::not_open), 0};
    if (auto ec = check_interleaved(samples.size(), s.output_params().channels))
        co_return result{ec, 0};
    span_source<T> source(samples, static_cast<std::size_t>(s.output_params().channels));
    auto [ec, n] = co_await play_from<T>(s, source, true);
    co_return result{ec, static_cast<std::size_t>(n)};
}

template <class T, class Stream>
asio::awaitable<std::tuple<std::error_code, std::size_t>> record_span(Stream& s,
                                                                      std::span<T> samples)
{
    using result = std::tuple<std::error_code, std::size_t>;
    if (!s.is_open()) co_return result{make_error_code(errc::not_open), 0};
    const int channels = s.input_params().channels;
    if (auto ec = check_interleaved(samples.size(), channels)) co_return result{ec, 0};
    span_sink<T> sink(samples, static_cast<std::size_t>(channels));
    auto [ec, n] =
        co_await record_into<T>(s, sink, samples.size() / static_cast<std::size_t>(channels),
                                s.input_params().overflow_is_error, true);
    co_return result{ec, static_cast<std::size_t>(n)};
}

template <class TP, class TR, class Stream>
asio::awaitable<std::tuple<std::error_code, std::size_t>>
playrec_span(Stream& s, std::span<const TP> play, std::span<TR> recording)
{
    using result = std::tuple<std::error_code, std::size_t>;
    if (!s.is_open()) co_return result{make_error_code(errc::not_open), 0};
    auto [ec, n] =
        co_await playrec_on<TP, TR>(s, play, recording, s.input_params().overflow_is_error);
    co_return result{ec, static_cast<std::size_t>(n)};
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
