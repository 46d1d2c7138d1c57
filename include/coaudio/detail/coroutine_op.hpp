// coaudio: a coroutine started as an asynchronous operation, for any completion token.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_COROUTINE_OP_HPP
#define COAUDIO_DETAIL_COROUTINE_OP_HPP

#include <coaudio/config.hpp>
#include <coaudio/error.hpp>

#include <exception>
#include <new>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

// ---- A coroutine as an asynchronous operation ---------------------------------------
//
// The one-shot operations are coroutines. `start_coroutine` runs one with `co_spawn` for
// any completion token: the coroutine returns `std::tuple<std::error_code, Ts...>`
// and the operation completes with `void(coaudio::error_code, Ts...)`. The handler's
// cancellation slot reaches the coroutine (co_spawn connects it), and the handler
// runs on its associated executor. co_spawn never completes inside the
// initiating call.

template <class Tuple>
struct tuple_completion;
template <class... Ts>
struct tuple_completion<std::tuple<std::error_code, Ts...>> {
    using type = void(error_code, Ts...);
};

/// The error an exception escaping a one-shot coroutine stands for. Anything
/// but a system_error or bad_alloc is a bug and propagates (out of `run()`).
inline std::error_code error_from(std::exception_ptr e)
{
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error& x) {
        return x.code();
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
}

template <class Executor>
class initiate_coroutine {
public:
    using executor_type = Executor;

    explicit initiate_coroutine(const Executor& ex) : ex_(ex) {}
    executor_type get_executor() const noexcept { return ex_; }

    /// `factory()` makes the coroutine; called here, so that a deferred
    /// operation launched twice runs two fresh coroutines.
    template <class Handler, class Factory>
    void operator()(Handler&& handler, Factory factory) const
    {
        using result = typename std::invoke_result_t<Factory&>::value_type;
        auto slot = asio::get_associated_cancellation_slot(handler);
        auto handler_ex = asio::get_associated_executor(handler, ex_);
        auto complete = [h = std::decay_t<Handler>(std::forward<Handler>(handler))](
                            std::exception_ptr e, result r) mutable {
            if (e) std::get<0>(r) = error_from(e);
            std::apply(
                [&h](std::error_code ec, auto&&... values) {
                    std::move(h)(error_code(ec), std::forward<decltype(values)>(values)...);
                },
                std::move(r));
        };
        asio::co_spawn(ex_, factory(),
                       asio::bind_cancellation_slot(
                           slot, asio::bind_executor(handler_ex, std::move(complete))));
    }

private:
    Executor ex_;
};

/// Starts the coroutine that `factory()` returns as an operation completing
/// through `token`.
template <class Token, class Executor, class Factory>
auto start_coroutine(const Executor& ex, Token&& token, Factory factory)
{
    using signature =
        typename tuple_completion<typename std::invoke_result_t<Factory&>::value_type>::type;
    return asio::async_initiate<Token, signature>(initiate_coroutine<Executor>(ex), token,
                                                  std::move(factory));
}

/// Lets terminal and partial cancellation through to the coroutine (its
/// operations all leave a well-defined state behind), and from Asio 1.24 keeps
/// a cancelled coroutine from throwing at its next co_await: the coroutines
/// here look at the state themselves and clean up without awaiting.
inline asio::awaitable<asio::cancellation_state> accept_cancellation()
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_partial_cancellation());
#ifdef COAUDIO_ASIO_HAS_THROW_IF_CANCELLED
    co_await asio::this_coro::throw_if_cancelled(false);
#endif
    co_return co_await asio::this_coro::cancellation_state;
}

inline bool is_cancelled(const asio::cancellation_state& cs) noexcept
{
    return cs.cancelled() != asio::cancellation_type::none;
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
