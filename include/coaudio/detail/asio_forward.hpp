// coaudio: every Asio header coaudio uses, and every difference between the Asio
// releases and flavours it supports, in one place.
// Distributed under the Boost Software License, Version 1.0.
//
// Supported: standalone Asio 1.22 to 1.38 and Boost.Asio from Boost 1.81 (see
// detail/namespace.hpp for how the flavour is chosen). The rest of coaudio writes
// `asio::` inside namespace coaudio, which the alias below points at the flavour in
// use, and asks this header, never ASIO_VERSION, about what a release can do.
#ifndef COAUDIO_DETAIL_ASIO_FORWARD_HPP
#define COAUDIO_DETAIL_ASIO_FORWARD_HPP

#include <coaudio/detail/namespace.hpp>

// ---- Coroutine support ---------------------------------------------------------------
//
// Standalone Asio before 1.24 does not recognise Clang's C++20 coroutines (with
// libstdc++) and then leaves out awaitable, co_spawn and use_awaitable. Asio makes
// that decision once, in asio/detail/config.hpp, so the defines must come before
// the first Asio header of the translation unit. coaudio's CMake targets put them
// on the command line; when coaudio is included first they are set here; when an
// Asio header came first and decided "no", nothing can repair it any more.
#if !defined(COAUDIO_USE_BOOST_ASIO) && defined(__clang__) && __cplusplus >= 202002L &&            \
    __has_include(<coroutine>) && !defined(ASIO_HAS_CO_AWAIT)
#  if defined(ASIO_DETAIL_CONFIG_HPP)
#    error                                                                                         \
        "coaudio: an Asio header was included before coaudio and Asio decided that Clang has no co_await. Define ASIO_HAS_CO_AWAIT=1 and ASIO_HAS_STD_COROUTINE=1 for the whole program (-D on the command line; the coaudio::coaudio CMake target does this), or include a coaudio header first."
#  endif
#  define ASIO_HAS_CO_AWAIT 1
#  ifndef ASIO_HAS_STD_COROUTINE
#    define ASIO_HAS_STD_COROUTINE 1
#  endif
#endif

// ---- The headers -----------------------------------------------------------------------

// MinGW-w64: Asio decides whether it has threads from _MT, _REENTRANT and the
// like, once, in the first Asio header. GCC for MinGW drops _REENTRANT under
// -pthread, and _MT comes from the C runtime's _mingw.h, which no Asio header
// has included by then: with -pthread Asio would build without threads, and
// every io_context timer (coaudio's stall watchdog among them) throw
// operation_not_supported. One C++ header first includes _mingw.h.
#include <cstddef>

#ifdef COAUDIO_USE_BOOST_ASIO
#  include <boost/asio/any_io_executor.hpp>
#  include <boost/asio/associated_cancellation_slot.hpp>
#  include <boost/asio/associated_executor.hpp>
#  include <boost/asio/associator.hpp>
#  include <boost/asio/async_result.hpp>
#  include <boost/asio/awaitable.hpp>
#  include <boost/asio/basic_waitable_timer.hpp>
#  include <boost/asio/bind_cancellation_slot.hpp>
#  include <boost/asio/bind_executor.hpp>
#  include <boost/asio/buffer.hpp>
#  include <boost/asio/cancellation_state.hpp>
#  include <boost/asio/co_spawn.hpp>
#  include <boost/asio/compose.hpp>
#  include <boost/asio/error.hpp>
#  include <boost/asio/execution/executor.hpp>
#  include <boost/asio/execution_context.hpp>
#  include <boost/asio/is_executor.hpp>
// The doorbell waiter (detail/stream_impl.hpp): an event object on Windows,
// a descriptor elsewhere.
#  if defined(_WIN32)
#    include <boost/asio/windows/basic_object_handle.hpp>
#  else
#    include <boost/asio/posix/basic_stream_descriptor.hpp>
#  endif
#  include <boost/asio/defer.hpp>
#  include <boost/asio/post.hpp>
#  include <boost/asio/steady_timer.hpp>
#  include <boost/asio/this_coro.hpp>
#  include <boost/asio/use_awaitable.hpp>
#  include <boost/asio/version.hpp>
#  include <boost/system/error_code.hpp>
#  include <boost/version.hpp>
// Boost 1.81 (Asio 1.26) is the oldest that has everything coaudio needs at once:
// boost::system::error_code converts to and from std::error_code (so coaudio's
// std-category errc works unchanged), and Asio's cancellation, as_tuple and
// deferred are all there. Older Boost is not built or tested.
#  if BOOST_VERSION < 108100
#    error "coaudio: Boost.Asio needs Boost 1.81 or newer"
#  endif
#  define COAUDIO_ASIO_VERSION BOOST_ASIO_VERSION
#  include <boost/asio/as_tuple.hpp>
#  include <boost/asio/deferred.hpp>
#  if __has_include(<boost/asio/awaitable_operators.hpp>)
#    include <boost/asio/awaitable_operators.hpp>
#    define COAUDIO_ASIO_OPERATORS_NS ::boost::asio::awaitable_operators
#  else
#    include <boost/asio/experimental/awaitable_operators.hpp>
#    define COAUDIO_ASIO_OPERATORS_NS ::boost::asio::experimental::awaitable_operators
#  endif
#  define COAUDIO_ASIO_NS ::boost::asio
#  define COAUDIO_ASIO_TOKENS_NS ::boost::asio
#else
#  include <asio/any_io_executor.hpp>
#  include <asio/associated_cancellation_slot.hpp>
#  include <asio/associated_executor.hpp>
#  include <asio/associator.hpp>
#  include <asio/async_result.hpp>
#  include <asio/awaitable.hpp>
#  include <asio/basic_waitable_timer.hpp>
#  include <asio/bind_cancellation_slot.hpp>
#  include <asio/bind_executor.hpp>
#  include <asio/buffer.hpp>
#  include <asio/cancellation_state.hpp>
#  include <asio/co_spawn.hpp>
#  include <asio/compose.hpp>
#  include <asio/error.hpp>
#  include <asio/execution/executor.hpp>
#  include <asio/execution_context.hpp>
#  include <asio/is_executor.hpp>
#  if defined(_WIN32)
#    include <asio/windows/basic_object_handle.hpp>
#  else
#    include <asio/posix/basic_stream_descriptor.hpp>
#  endif
#  include <asio/defer.hpp>
#  include <asio/post.hpp>
#  include <asio/steady_timer.hpp>
#  include <asio/this_coro.hpp>
#  include <asio/use_awaitable.hpp>
#  include <asio/version.hpp>
#  if ASIO_VERSION < 102200
#    error "coaudio: standalone Asio needs Asio 1.22 or newer"
#  endif
#  define COAUDIO_ASIO_VERSION ASIO_VERSION
// 1.22 keeps deferred and as_tuple under experimental; 1.24 moved them into asio::.
#  if __has_include(<asio/as_tuple.hpp>)
#    include <asio/as_tuple.hpp>
#    include <asio/deferred.hpp>
#    define COAUDIO_ASIO_TOKENS_NS ::asio
#  else
#    include <asio/experimental/as_tuple.hpp>
#    include <asio/experimental/deferred.hpp>
#    define COAUDIO_ASIO_TOKENS_NS ::asio::experimental
#  endif
// The awaitable operators (|| and &&) are still experimental in 1.30; 1.38 has
// them in asio::.
#  if __has_include(<asio/awaitable_operators.hpp>)
#    include <asio/awaitable_operators.hpp>
#    define COAUDIO_ASIO_OPERATORS_NS ::asio::awaitable_operators
#  else
#    include <asio/experimental/awaitable_operators.hpp>
#    define COAUDIO_ASIO_OPERATORS_NS ::asio::experimental::awaitable_operators
#  endif
#  define COAUDIO_ASIO_NS ::asio
#endif

#include <system_error>
#include <type_traits>

// ---- What a release can do -----------------------------------------------------------
//
// Both flavours number their Asio alike (1.26.0 is 102600), so one set of tests.

// this_coro::throw_if_cancelled, which lets a cancelled coroutine clean up (1.24).
#if COAUDIO_ASIO_VERSION >= 102400
#  define COAUDIO_ASIO_HAS_THROW_IF_CANCELLED 1
#endif
// A deferred operation can be co_awaited as it is (1.28).
#if COAUDIO_ASIO_VERSION >= 102800
#  define COAUDIO_ASIO_CAN_AWAIT_DEFERRED 1
#endif

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// The Asio coaudio is built on: `::asio` or `::boost::asio`. Inside namespace
/// coaudio every `asio::` means this one.
namespace asio = COAUDIO_ASIO_NS;

/// The error code of that Asio's completion signatures: `std::error_code` or
/// `boost::system::error_code`. coaudio's own `errc` converts to either.
#ifdef COAUDIO_USE_BOOST_ASIO
using error_code = ::boost::system::error_code;
#else
using error_code = std::error_code;
#endif

/// `deferred` and `as_tuple`, wherever this Asio keeps them.
using COAUDIO_ASIO_TOKENS_NS::deferred_t;
inline constexpr deferred_t deferred{};
using COAUDIO_ASIO_TOKENS_NS::as_tuple_t;

/// `coaudio::as_tuple(token)`: a function object rather than a function, so that
/// an unqualified call cannot also find `asio::as_tuple` and
/// `asio::experimental::as_tuple` by argument-dependent lookup (Asio 1.28 and
/// 1.30 declare both, and the call was ambiguous there).
struct as_tuple_fn {
    template <class CompletionToken>
    constexpr auto operator()(CompletionToken&& token) const
    {
        return COAUDIO_ASIO_TOKENS_NS::as_tuple(static_cast<CompletionToken&&>(token));
    }
};
inline constexpr as_tuple_fn as_tuple{};

/// The completion token used when none is given: the executor's default
/// completion token where it names one, `deferred` otherwise (Asio 1.22 has
/// no default and would otherwise demand a token on every call).
template <class Executor>
using default_token_t =
    std::conditional_t<std::is_void_v<typename asio::default_completion_token<Executor>::type>,
                       deferred_t, typename asio::default_completion_token<Executor>::type>;

namespace detail {
/// Asio's `||` and `&&` on awaitables (`using namespace awaitable_ops;`).
namespace awaitable_ops = COAUDIO_ASIO_OPERATORS_NS;

/// Asio's `operation_aborted` as the `std::error_code` that coaudio's internals
/// carry on both flavours. A Boost error code converts to `std::error_code` and
/// back without losing its category, so this compares equal to what a cancelled
/// Boost.Asio wait reports, once converted.
inline std::error_code aborted() noexcept
{
    return error_code(asio::error::operation_aborted);
}
} // namespace detail

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE

#undef COAUDIO_ASIO_NS
#undef COAUDIO_ASIO_TOKENS_NS
#undef COAUDIO_ASIO_OPERATORS_NS

#endif
