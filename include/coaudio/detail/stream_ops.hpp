// coaudio: starting a stream's operations: their preconditions, their machine,
// and the composed operation that drives it.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_OPS_HPP
#define COAUDIO_DETAIL_STREAM_OPS_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_impl.hpp>
#include <coaudio/detail/transfer.hpp>
#include <coaudio/detail/transfer_op.hpp>
#include <coaudio/error.hpp>
#include <coaudio/sample_format.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

// Each function here starts one operation of a stream whose executor is `ex`
// and whose implementation is `impl` (null when it is not open), with the
// handler that `asio::async_initiate` gave the stream's initiation object.
// A precondition that fails is not reported here: the operation completes
// with it, posted, as with every other error.

template <class Executor>
using impl_ptr = std::shared_ptr<stream_impl<Executor>>;

enum class transfer_kind { read, write };

/// Starts a read or a write of `target`; `all`: of all of it.
template <transfer_kind Kind, bool CountFrames, class Executor, class Target, class Handler>
void start_transfer_of(const Executor& ex, const impl_ptr<Executor>& impl, Target target, bool all,
                       std::error_code precheck, Handler&& handler)
{
    using machine = std::conditional_t<Kind == transfer_kind::read, read_transfer<Target>,
                                       write_transfer<Target>>;
    start_transfer_op<CountFrames>(ex, impl, machine(std::move(target), all), precheck,
                                   std::forward<Handler>(handler));
}

/// The parameters of the half a transfer of `Kind` moves; null when not open.
template <transfer_kind Kind, class Executor>
const stream_params* half_params(const impl_ptr<Executor>& impl) noexcept
{
    if (!impl || !impl->core->is_open()) return nullptr;
    return Kind == transfer_kind::read ? &impl->core->input().params : &impl->core->output().params;
}

/// The typed operations' first precondition: an open stream of samples of type `T`.
template <class T>
std::error_code check_samples(const stream_params* p) noexcept
{
    if (p == nullptr) return make_error_code(errc::not_open);
    if (sample_traits<T>::format != p->format) return make_error_code(errc::format_mismatch);
    return {};
}

/// `async_read_some` and `async_write_some`: whole frames of a buffer
/// sequence, completing with bytes once one frame or more has moved.
template <transfer_kind Kind, class Executor, class Buffers, class Handler>
void start_byte_transfer(const Executor& ex, const impl_ptr<Executor>& impl, const Buffers& buffers,
                         Handler&& handler)
{
    const std::size_t bytes = asio::buffer_size(buffers);
    std::error_code ec;
    std::size_t frames = 0;
    if (const stream_params* p = half_params<Kind>(impl)) {
        frames = bytes / p->frame_bytes();
        if (bytes != 0 && frames == 0) ec = make_error_code(errc::not_whole_frames);
    } else {
        ec = make_error_code(errc::not_open);
    }
    start_transfer_of<Kind, false>(ex, impl, interleaved_target<Buffers>{buffers, frames}, false,
                                   ec, std::forward<Handler>(handler));
}

/// `async_read_frames` and `async_write_frames` of interleaved samples of
/// type `T`: the stream's format, in whole frames.
template <transfer_kind Kind, class T, class Executor, class U, std::size_t Extent, class Handler>
void start_interleaved_transfer(const Executor& ex, const impl_ptr<Executor>& impl,
                                std::span<U, Extent> samples, Handler&& handler)
{
    const stream_params* p = half_params<Kind>(impl);
    std::error_code ec = check_samples<T>(p);
    if (!ec && samples.size() % static_cast<std::size_t>(p->channels) != 0)
        ec = make_error_code(errc::not_whole_frames);
    const std::size_t frames = ec ? 0 : samples.size() / static_cast<std::size_t>(p->channels);
    auto buffer = asio::buffer(samples.data(), samples.size_bytes());
    start_transfer_of<Kind, true>(ex, impl, interleaved_target<decltype(buffer)>{buffer, frames},
                                  true, ec, std::forward<Handler>(handler));
}

/// The same, non-interleaved: one span per channel, all the same length.
template <transfer_kind Kind, class T, class Executor, class U, class Handler>
void start_planar_transfer(const Executor& ex, const impl_ptr<Executor>& impl,
                           std::span<const std::span<U>> channels, Handler&& handler)
{
    const stream_params* p = half_params<Kind>(impl);
    std::error_code ec = check_samples<T>(p);
    if (!ec && channels.size() != static_cast<std::size_t>(p->channels))
        ec = make_error_code(errc::invalid_channels);
    const std::size_t frames = channels.empty() ? 0 : channels[0].size();
    for (const auto& ch : channels)
        if (!ec && ch.size() != frames) ec = make_error_code(errc::not_whole_frames);
    start_transfer_of<Kind, true>(ex, impl, planar_target<U>{channels, ec ? 0 : frames}, true, ec,
                                  std::forward<Handler>(handler));
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
