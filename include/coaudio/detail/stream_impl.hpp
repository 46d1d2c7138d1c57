// coaudio: the io-side state of a stream and the operation that drives its transfers.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_IMPL_HPP
#define COAUDIO_DETAIL_STREAM_IMPL_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_core.hpp>
#include <coaudio/detail/transfer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>
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

enum class transfer_kind { read, write };

/// The one composed operation behind every read, write and drain: a thin
/// driver of a transfer machine (transfer.hpp). It asks the machine what to
/// do and does it: parks on the machine's direction's doorbell (an Asio
/// operation on the doorbell, `async_wait_bell`, so handler allocation, work
/// tracking and cancellation are Asio's), or completes, with a count of
/// frames, or of bytes when `CountFrames` is false. It never completes inside
/// its initiating function. Closing, cancellation, errors of the wait and
/// stalls end the operation here, whatever the machine.
///
/// Written out as Asio writes its own composed operations (`async_read`'s
/// `read_op`), not with `async_compose`: that one tracks work on the stream's
/// executor for as long as the operation lives, and on the default
/// `any_io_executor` every move of the operation moves a type-erased
/// executor. The doorbell wait (or the deferred completion) already holds
/// that work while the operation is pending, so the operation carries only
/// the handler, a cancellation state and its own fields; the handler's
/// executor, allocator and the rest are the handler's, through `associator`
/// below, with the doorbell's executor (the stream's) as the default.
template <class Executor, class Machine, bool CountFrames, class Handler>
class transfer_op {
public:
    /// Where cancellation reaches the operation: a slot of its own, filtered
    /// as Asio's reads are (terminal and partial; total is not honoured,
    /// since frames may already have moved).
    using cancellation_slot_type = asio::cancellation_slot;

    template <class H>
    transfer_op(H&& handler, std::shared_ptr<stream_impl<Executor>> impl, Machine machine,
                std::error_code precheck)
        : handler_(std::forward<H>(handler)),
          state_(asio::get_associated_cancellation_slot(handler_),
                 asio::enable_partial_cancellation()),
          impl_(std::move(impl)), machine_(std::move(machine)), ec_(precheck)
    {
    }

    transfer_op(transfer_op&&) = default;

    cancellation_slot_type get_cancellation_slot() const noexcept { return state_.slot(); }
    const Handler& handler() const noexcept { return handler_; }

    /// The first step, inside the initiating function. `ex` is the stream's
    /// executor, the handler's default. `*this` is moved from once this
    /// returns.
    void start(const Executor& ex)
    {
        if (!ec_) ec_ = check();
        if (impl_) stall_epoch_ = impl_->stall_epoch;
        if (!ec_ && !machine_.empty()) {
            busy() = owns_busy_ = true;
            machine_.begin(*impl_->core);
            if (!take(machine_.resume(*impl_->core)) && park()) return wait();
        }
        step_ = step::posted;
        // Deferred, not posted: the completion is a continuation of the
        // handler that started the operation. On that handler's io thread it
        // goes to the thread's own queue, where a post takes the scheduler's
        // lock and counts outstanding work atomically, for every read or
        // write that finds its frames already there, as one that fell behind
        // does for every block. It still never runs inside this call.
        // Straight to the handler's own executor, as `async_compose` does:
        // a handler whose executor is not the stream's (`use_future`'s is the
        // system executor) completes without the stream's io_context running.
        const auto handler_ex = asio::get_associated_executor(handler_, ex);
        asio::defer(handler_ex, std::move(*this));
    }

    /// A doorbell wait completed (`ec`, and the bytes it read, which mean
    /// nothing), or the deferred completion runs (no arguments).
    void operator()(std::error_code ec = {}, std::size_t /*doorbell bytes*/ = 0)
    {
        if (step_ == step::posted) return finish();
        step_ = step::waiting; // a wait after the first continues the operation
        if (!impl_->core->is_open() || ec == aborted()) {
            // Closed, or cancelled: cancellation reaches a parked operation
            // through the descriptor wait, which Asio completes this way.
            ec_ = aborted();
            return finish();
        }
        if (ec) {
            ec_ = ec;
            return finish();
        }
        if (impl_->stall_epoch != stall_epoch_) {
            ec_ = make_error_code(errc::stalled);
            return finish();
        }
        bell_woken(chan().bell);
        if (take(machine_.resume(*impl_->core)) || !park()) return finish();
        wait();
    }

    /// Asio's continuation hook: every wait after the first continues this
    /// operation, so one that completes at once (its speculative read found
    /// a ring) is queued as a continuation, on the thread's own queue.
    friend bool asio_handler_is_continuation(transfer_op* op) noexcept
    {
        return op->step_ == step::waiting;
    }

private:
    // start: in the initiating function, or in the first wait;
    // waiting: in a later wait; posted: the completion is deferred.
    enum class step { start, waiting, posted };

    direction_bridge& chan() const noexcept
    {
        return Machine::input ? impl_->core->input() : impl_->core->output();
    }
    bool& busy() const noexcept { return Machine::input ? impl_->read_busy : impl_->write_busy; }

    // Takes the machine's answer: true when it is done (ec_ says how),
    // false when it parks (want_ says for how many frames).
    bool take(const next_action& a) noexcept
    {
        switch (a.what) {
        case next_action::type::done: return true;
        case next_action::type::halted: ec_ = impl_->core->halt_reason(); return true;
        case next_action::type::park: break;
        }
        want_ = a.want;
        return false;
    }

    std::error_code check() const
    {
        if (!impl_ || !impl_->core->is_open()) return make_error_code(errc::not_open);
        if (busy()) return make_error_code(errc::operation_in_progress);
        return {};
    }

    // Parks until `want_` frames are ready: true when parked, false when the
    // machine is done after all (the frames came, or the stream will not move).
    bool park()
    {
        while (!impl_->core->park(chan(), want_))
            if (take(machine_.resume(*impl_->core))) return false;
        return true;
    }

    // Waits for the doorbell. `*this` is moved from once this returns.
    void wait()
    {
        stream_impl<Executor>::arm_watchdog(impl_);
        auto& bell = Machine::input ? *impl_->in_bell : *impl_->out_bell;
        auto& scratch = Machine::input ? impl_->in_scratch : impl_->out_scratch;
        async_wait_bell<Executor>(bell, scratch, std::move(*this));
    }

    void finish()
    {
        std::size_t count = machine_.frames(); // frames, or bytes for the Asio stream operations
        if (impl_ && owns_busy_) {
            direction_bridge& c = chan();
            impl_->core->unpark(c);
            busy() = false;
            if constexpr (!CountFrames) count *= c.params.frame_bytes();
            machine_.conclude(*impl_, ec_);
        }
        auto impl = std::move(impl_); // keep the core alive until the handler has run
        if constexpr (Machine::has_count)
            std::move(handler_)(error_code(ec_), count);
        else
            std::move(handler_)(error_code(ec_));
    }

    // Every byte here moves with each wait.
    Handler handler_;
    asio::cancellation_state state_;
    std::shared_ptr<stream_impl<Executor>> impl_;
    Machine machine_;
    std::error_code ec_;
    std::size_t want_ = 0;
    bool owns_busy_ = false;
    std::uint64_t stall_epoch_ = 0; ///< the stream's stall count when this operation began
    step step_ = step::start;
};

/// Starts a transfer_op for `handler`: the initiation of every read, write
/// and drain of a stream whose executor is `ex`.
template <bool CountFrames, class Executor, class Machine, class Handler>
void start_transfer_op(const Executor& ex, std::shared_ptr<stream_impl<Executor>> impl,
                       Machine machine, std::error_code precheck, Handler&& handler)
{
    transfer_op<Executor, Machine, CountFrames, std::decay_t<Handler>>(
        std::forward<Handler>(handler), std::move(impl), std::move(machine), precheck)
        .start(ex);
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

// The handler's associated executor, allocator (and, from Asio 1.30, immediate
// executor) are the operation's, as for Asio's own composed operations. The
// cancellation slot is not: the operation names its own (above), which Asio
// prefers to an associator.
#ifdef COAUDIO_USE_BOOST_ASIO
namespace boost::asio {
#else
namespace asio {
#endif
template <template <class, class> class Associator, class Executor, class Machine, bool CountFrames,
          class Handler, class DefaultCandidate>
struct associator<Associator,
                  ::coaudio::COAUDIO_BACKEND_NAMESPACE::detail::transfer_op<Executor, Machine,
                                                                            CountFrames, Handler>,
                  DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    using op = ::coaudio::COAUDIO_BACKEND_NAMESPACE::detail::transfer_op<Executor, Machine,
                                                                         CountFrames, Handler>;
    static typename Associator<Handler, DefaultCandidate>::type get(const op& o) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(o.handler());
    }
    static auto get(const op& o, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(o.handler(), c))
    {
        return Associator<Handler, DefaultCandidate>::get(o.handler(), c);
    }
};
} // namespace asio

#undef COAUDIO_BELL_WAIT_READS

#endif
