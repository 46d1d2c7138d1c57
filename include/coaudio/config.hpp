// coaudio: async audio I/O on Asio and PortAudio.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_CONFIG_HPP
#define COAUDIO_CONFIG_HPP

// Clang with libstdc++ does not advertise coroutine support to Asio on its own.
#if defined(__clang__) && __cplusplus >= 202002L && __has_include(<coroutine>)
#  ifndef ASIO_HAS_CO_AWAIT
#    define ASIO_HAS_CO_AWAIT 1
#  endif
#  ifndef ASIO_HAS_STD_COROUTINE
#    define ASIO_HAS_STD_COROUTINE 1
#  endif
#endif

#include <asio/async_result.hpp>
#include <asio/version.hpp>

#include <type_traits>

// Asio 1.22 (Debian bookworm) keeps deferred and as_tuple under experimental;
// later releases moved them into asio::. Pick whichever this Asio has.
#if __has_include(<asio/deferred.hpp>)
#  include <asio/deferred.hpp>
#  define COAUDIO_ASIO_DEFERRED_NS ::asio
#else
#  include <asio/experimental/deferred.hpp>
#  define COAUDIO_ASIO_DEFERRED_NS ::asio::experimental
#endif
#if __has_include(<asio/as_tuple.hpp>)
#  include <asio/as_tuple.hpp>
#  define COAUDIO_ASIO_AS_TUPLE_NS ::asio
#else
#  include <asio/experimental/as_tuple.hpp>
#  define COAUDIO_ASIO_AS_TUPLE_NS ::asio::experimental
#endif

#define COAUDIO_VERSION_MAJOR 0
#define COAUDIO_VERSION_MINOR 1
#define COAUDIO_VERSION_PATCH 0

namespace coaudio {

/// `deferred` and `as_tuple`, wherever this Asio keeps them.
using COAUDIO_ASIO_DEFERRED_NS::deferred_t;
inline constexpr deferred_t deferred{};
using COAUDIO_ASIO_AS_TUPLE_NS::as_tuple_t;
template <class CompletionToken>
constexpr auto as_tuple(CompletionToken&& token)
{
    return COAUDIO_ASIO_AS_TUPLE_NS::as_tuple(static_cast<CompletionToken&&>(token));
}

/// The completion token used when none is given: the executor's default
/// completion token where it names one, `deferred` otherwise (Asio 1.22 has
/// no default and would otherwise demand a token on every call).
template <class Executor>
using default_token_t = std::conditional_t<
    std::is_void_v<typename asio::default_completion_token<Executor>::type>, deferred_t,
    typename asio::default_completion_token<Executor>::type>;

} // namespace coaudio

#endif
