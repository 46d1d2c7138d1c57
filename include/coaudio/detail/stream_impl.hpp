// coaudio: the io-side state of a stream: its core, its doorbell waits and its watchdog.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_IMPL_HPP
#define COAUDIO_DETAIL_STREAM_IMPL_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_core.hpp>
#include <coaudio/stream_status.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The Asio object that waits on a doorbell: a stream descriptor read on
/// POSIX, an object handle watched for the signalled state on Windows. The
/// only places that differ are this alias, `async_wait_bell` and
/// `bell_woken`; doorbell.hpp holds the rest.
#if defined(_WIN32)
template <class Executor>
using bell_waiter = asio::windows::basic_object_handle<Executor>;
#else
template <class Executor>
using bell_waiter = asio::posix::basic_stream_descriptor<Executor>;
#endif

/// Asio's io_uring backend (COAUDIO_IO_URING) reads a descriptor with an
/// io_uring read, which on the doorbell's non-blocking descriptor completes
/// with `would_block` instead of waiting: there the wait stays a poll
/// (`async_wait`), as on Windows it is the event's.
#if defined(_WIN32) || defined(ASIO_HAS_IO_URING_AS_DEFAULT) ||                                    \
    defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#  define COAUDIO_BELL_WAIT_READS 0
#else
#  define COAUDIO_BELL_WAIT_READS 1
#endif

/// Where a wait's read of the doorbell lands: an eventfd's count (8 bytes),
/// or up to 64 of a pipe's rings. Empty where the wait is a poll.
using bell_scratch = std::array<unsigned char, COAUDIO_BELL_WAIT_READS ? 64 : 0>;

/// Starts waiting for the doorbell behind `waiter` to ring. `handler` is
/// called with an error_code, and on POSIX also with the bytes read, which
/// mean nothing.
///
/// On POSIX the wait is an `async_read_some` of the doorbell, not an
/// `async_wait`. Asio's epoll reactor keeps the descriptor registered (edge
/// triggered) from the first operation on, tries a read before it queues
/// one, and reads when the edge comes: a park costs a read that finds
/// nothing, and the read that completes the wait is the drain. (An
/// `async_wait` re-arms with `epoll_ctl(EPOLL_CTL_MOD)` every time, a call
/// that takes the epoll instance's lock and polls the descriptor, and the
/// wake-up then needs a read of its own.) `tests/unit/park_protocol_test.cpp`
/// checks every interleaving of the park/notify protocol over both waits.
template <class Executor, class Handler>
void async_wait_bell(bell_waiter<Executor>& waiter, [[maybe_unused]] bell_scratch& scratch,
                     Handler&& handler)
{
#if COAUDIO_BELL_WAIT_READS
    waiter.async_read_some(asio::buffer(scratch), std::forward<Handler>(handler));
#elif defined(_WIN32)
    waiter.async_wait(std::forward<Handler>(handler));
#else
    waiter.async_wait(asio::posix::descriptor_base::wait_read, std::forward<Handler>(handler));
#endif
}

/// What a woken operation does with its doorbell: a read that woke it took
/// the rings; after a poll (io_uring) or a Windows event they are drained.
inline void bell_woken([[maybe_unused]] doorbell& bell) noexcept
{
#if !COAUDIO_BELL_WAIT_READS
    bell.drain();
#endif
}

/// What the io side owns: the core, and an Asio waiter on each direction's
/// doorbell. Shared with pending operations so that closing or destroying
/// the stream while one is parked leaves it something valid to complete
/// from.
template <class Executor>
struct stream_impl {
    using descriptor = bell_waiter<Executor>;

    stream_impl(const Executor& ex, std::shared_ptr<stream_core> c)
        : core(std::move(c)), watchdog(ex)
    {
        if (has_input(core->dir())) in_bell.emplace(ex, core->input().bell.waiter_handle());
        if (has_output(core->dir())) out_bell.emplace(ex, core->output().bell.waiter_handle());
    }
    stream_impl(const stream_impl&) = delete;
    stream_impl& operator=(const stream_impl&) = delete;
    ~stream_impl() { close(); }

    /// Cancels pending waits, then closes the PortAudio stream. The doorbell
    /// descriptors belong to the core, so Asio gives them back instead of
    /// closing them (on Windows the waiters close their own duplicates).
    void close() noexcept
    {
        release_bells();
        watchdog.cancel();
        if (core) core->close();
    }

    void release_bells() noexcept
    {
#if defined(_WIN32)
        error_code ignored;
        if (in_bell && in_bell->is_open()) in_bell->close(ignored);
        if (out_bell && out_bell->is_open()) out_bell->close(ignored);
#else
        if (in_bell && in_bell->is_open()) in_bell->release();
        if (out_bell && out_bell->is_open()) out_bell->release();
#endif
    }

    void cancel(std::error_code& ec)
    {
        error_code e; // the flavour's own: Boost.Asio reports a boost::system::error_code
        if (in_bell) in_bell->cancel(e);
        if (!e && out_bell) out_bell->cancel(e);
        ec = e;
    }

    /// While an operation is parked, looks every `watchdog_period` for a
    /// PortAudio stream that died without a callback, so the operation fails
    /// instead of hanging, and, with a stall timeout, for callbacks that
    /// stopped coming. Armed lazily and left to expire once nothing is
    /// parked, so a read loop costs no timer syscalls per block; the price is
    /// that `run()` may return up to one period late.
    static void arm_watchdog(const std::shared_ptr<stream_impl>& self)
    {
        const auto stall = self->stall_timeout();
        if (self->watchdog_armed || (self->core->native_handle() == nullptr && stall.count() == 0))
            return;
        // Callbacks are counted from when an operation first waits.
        self->seen_callbacks = self->core->callbacks();
        self->seen_at = std::chrono::steady_clock::now();
        watch(self);
    }

    static void watch(const std::shared_ptr<stream_impl>& self)
    {
        const auto stall = self->stall_timeout();
        self->watchdog_armed = true;
        self->watchdog.expires_after(
            stall.count() == 0
                ? watchdog_period
                : std::clamp(stall / 4, std::chrono::milliseconds(5), watchdog_period));
        self->watchdog.async_wait([self](std::error_code ec) {
            self->watchdog_armed = false;
            if (ec || !self->core->is_open()) return;
            self->core->check_alive();
            self->check_stall();
            if (self->read_busy || self->write_busy) watch(self);
        });
    }

    static constexpr std::chrono::milliseconds watchdog_period{200};

    std::chrono::milliseconds stall_timeout() const noexcept
    {
        return core->params().stall_timeout;
    }

    /// Completes the parked operations with `errc::stalled` when a running
    /// stream has had no callback for the stall timeout.
    void check_stall() noexcept
    {
        const auto stall = stall_timeout();
        if (stall.count() == 0) return;
        const auto now = std::chrono::steady_clock::now();
        const std::uint64_t n = core->callbacks();
        const run_state s = core->state();
        if (n != seen_callbacks || (s != run_state::running && s != run_state::draining)) {
            seen_callbacks = n;
            seen_at = now;
            return;
        }
        if (now - seen_at < stall) return;
        ++stall_epoch; // the parked operations see it when they wake
        seen_at = now;
        core->mark_stalled(); // and stop() does not wait for a drain that cannot come
        core->wake_waiters();
    }

    std::shared_ptr<stream_core> core;
    std::optional<descriptor> in_bell;
    std::optional<descriptor> out_bell;
    bell_scratch in_scratch{}; ///< where a parked read's wait reads its doorbell
    bell_scratch out_scratch{};
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>
        watchdog;
    bool watchdog_armed = false;
    std::uint64_t seen_callbacks = 0;                ///< callbacks at the watchdog's last look
    std::chrono::steady_clock::time_point seen_at{}; ///< when that count last changed
    std::uint64_t stall_epoch = 0;                   ///< stalls detected so far
    bool read_busy = false;                          ///< one read outstanding
    bool write_busy = false;                         ///< one write or drain outstanding
    read_status last_read;                           ///< what the last completed read found
    write_status last_write;                         ///< what the last completed write learned
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#undef COAUDIO_BELL_WAIT_READS

#endif
