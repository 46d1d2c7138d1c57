// coaudio: the composed operation that drives a stream's transfer machines.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_TRANSFER_OP_HPP
#define COAUDIO_DETAIL_TRANSFER_OP_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/asio_forward.hpp>
#include <coaudio/detail/compose.hpp>
#include <coaudio/detail/stream_impl.hpp>
#include <coaudio/detail/transfer.hpp>
#include <coaudio/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

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
/// executor, allocator and the rest are the handler's, through the
/// `associator` of compose.hpp, with the doorbell's executor (the stream's)
/// as the default.
template <class Executor, class Machine, bool CountFrames, class Handler>
class transfer_op : public forwards_handler_associations {
public:
    /// Where cancellation reaches the operation: a slot of its own, filtered
    /// as Asio's reads are (terminal and partial; total is not honoured,
    /// since frames may already have moved).
    using cancellation_slot_type = asio::cancellation_slot;
    /// The handler's other associations are the operation's (compose.hpp).
    using handler_type = Handler;

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
        // Let go of the stream before the handler runs. The handler may run on
        // a thread of its own executor (`use_future`'s is the system
        // executor) and tell its caller, who may then destroy the stream and
        // its io_context at once: the last reference must not be this one,
        // dropped on that thread afterwards, with Asio's objects already gone.
        impl_.reset();
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

#endif
