// Test support: Asio's awaitable operators (|| and &&) as `awaitable_ops`,
// wherever the Asio in use keeps them (coaudio's detail/asio_forward.hpp knows).
#ifndef COAUDIO_TESTS_SUPPORT_AWAITABLE_OPS_HPP
#define COAUDIO_TESTS_SUPPORT_AWAITABLE_OPS_HPP

#include <coaudio/config.hpp>

namespace awaitable_ops = coaudio::detail::awaitable_ops;

#endif
