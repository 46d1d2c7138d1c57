// Test support: Asio's awaitable operators (|| and &&) as `awaitable_ops`,
// wherever the Asio in use keeps them (asio:: from 1.28, experimental before).
#ifndef COAUDIO_TESTS_SUPPORT_AWAITABLE_OPS_HPP
#define COAUDIO_TESTS_SUPPORT_AWAITABLE_OPS_HPP

#include <coaudio/config.hpp>

#if __has_include(<asio/awaitable_operators.hpp>) && ASIO_VERSION >= 102800
#  include <asio/awaitable_operators.hpp>
namespace awaitable_ops = asio::awaitable_operators;
#else
#  include <asio/experimental/awaitable_operators.hpp>
namespace awaitable_ops = asio::experimental::awaitable_operators;
#endif

#endif
