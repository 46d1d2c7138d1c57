// coaudio: composed operations without async_compose's work guard.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_COMPOSE_HPP
#define COAUDIO_DETAIL_COMPOSE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/asio_forward.hpp>

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The base of an operation whose associations are its handler's, but those
/// it names itself (executor, allocator, cancellation slot): it names the
/// handler's type `handler_type` and returns the handler from `handler()`.
/// Asio's `associator` is specialised for every such operation, below.
struct forwards_handler_associations {};

template <class Op>
concept handler_associated = std::derived_from<Op, forwards_handler_associations>;

/// The `self` of `async_compose_untracked`: what `asio::async_compose` gives
/// an implementation (`complete`, the cancellation state, and the handler's
/// executor, allocator and other associations, with the stream's executor
/// as the default executor), less one thing: it holds no work guard.
///
/// `asio::async_compose` keeps the executors it is given tracked (counted as
/// outstanding work) until the operation object is destroyed, which is after
/// the handler has returned. When the handler runs on a thread of its own
/// executor (`use_future`'s is the system executor) and wakes a caller that
/// destroys the io_context at once, that last release reads an io_context
/// that is gone. The operations here need no guard: every step between two
/// invocations is an Asio operation (a read of the inner stream, a timer
/// wait) or a `defer`, and each of those counts the work itself.
template <class Impl, class Executor, class Handler, class Signature>
class untracked_composed_op;

template <class Impl, class Executor, class Handler, class R, class... Args>
class untracked_composed_op<Impl, Executor, Handler, R(Args...)>
    : public forwards_handler_associations {
public:
    using executor_type = asio::associated_executor_t<Handler, Executor>;
    using allocator_type = asio::associated_allocator_t<Handler>;
    /// A slot of the operation's own, filtered by its cancellation state,
    /// which Asio prefers to an associator.
    using cancellation_slot_type = asio::cancellation_slot;
    using handler_type = Handler;

    template <class H>
    untracked_composed_op(Impl impl, const Executor& ex, H&& handler)
        : handler_(std::forward<H>(handler)),
          state_(asio::get_associated_cancellation_slot(handler_),
                 asio::enable_terminal_cancellation()),
          impl_(std::move(impl)), ex_(ex)
    {
    }

    untracked_composed_op(untracked_composed_op&&) = default;

    executor_type get_executor() const noexcept
    {
        return asio::get_associated_executor(handler_, ex_);
    }
    allocator_type get_allocator() const noexcept
    {
        return asio::get_associated_allocator(handler_);
    }
    cancellation_slot_type get_cancellation_slot() const noexcept { return state_.slot(); }
    const Handler& handler() const noexcept { return handler_; }

    /// The first step (in the initiating function), and each completion of
    /// an operation this one started.
    template <class... T>
    void operator()(T&&... t)
    {
        if (invocations_ < 2) ++invocations_;
        state_.slot().clear(); // what the last step installed there is done
        impl_(*this, std::forward<T>(t)...);
    }

    /// Calls the handler. The implementation must have let go of anything
    /// the handler's caller may destroy (the stream's state) before this.
    void complete(Args... args) { std::move(handler_)(std::move(args)...); }

    asio::cancellation_state get_cancellation_state() const noexcept { return state_; }

    template <class Filter>
    void reset_cancellation_state(Filter&& filter)
    {
        state_ = asio::cancellation_state(asio::get_associated_cancellation_slot(handler_),
                                          std::forward<Filter>(filter));
    }

    /// Asio's continuation hook: every step after the first continues this
    /// operation.
    friend bool asio_handler_is_continuation(untracked_composed_op* op) noexcept
    {
        return op->invocations_ > 1;
    }

private:
    Handler handler_;
    asio::cancellation_state state_;
    Impl impl_;
    Executor ex_; ///< the stream's executor, not tracked
    unsigned char invocations_ = 0;
};

/// `asio::async_compose<Token, Signature>(impl, token, ex)`, whose operation
/// holds no work guard on `ex` (see `untracked_composed_op`). The
/// implementation is called once inside the initiating function and must
/// not complete there: it defers, as with async_compose.
template <class Token, class Signature, class Impl, class Executor>
auto async_compose_untracked(Impl&& impl, Token&& token, const Executor& ex)
{
    return asio::async_initiate<Token, Signature>(
        [](auto&& handler, std::decay_t<Impl> impl, const Executor& ex) {
            untracked_composed_op<std::decay_t<Impl>, Executor, std::decay_t<decltype(handler)>,
                                  Signature>(std::move(impl), ex,
                                             std::forward<decltype(handler)>(handler))();
        },
        token, std::forward<Impl>(impl), ex);
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

// The handler's associations are the operation's, as for Asio's own composed
// operations; from Asio 1.30 that includes the immediate executor. Asio reads
// a type's own executor, allocator and cancellation slot before this.
#ifdef COAUDIO_USE_BOOST_ASIO
namespace boost::asio {
#else
namespace asio {
#endif
template <template <class, class> class Associator, class Op, class DefaultCandidate>
requires ::coaudio::COAUDIO_BACKEND_NAMESPACE::detail::handler_associated<Op>
struct associator<Associator, Op, DefaultCandidate>
    : Associator<typename Op::handler_type, DefaultCandidate> {
    using handler_associator = Associator<typename Op::handler_type, DefaultCandidate>;
    static typename handler_associator::type get(const Op& o) noexcept
    {
        return handler_associator::get(o.handler());
    }
    static auto get(const Op& o, const DefaultCandidate& c) noexcept
        -> decltype(handler_associator::get(o.handler(), c))
    {
        return handler_associator::get(o.handler(), c);
    }
};
} // namespace asio

#endif
