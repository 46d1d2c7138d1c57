// Test support: wires the ports of a stream that a one-shot operation opens
// itself, as soon as they exist.
#ifndef COAUDIO_TESTS_SUPPORT_LOOP_WHEN_OPEN_HPP
#define COAUDIO_TESTS_SUPPORT_LOOP_WHEN_OPEN_HPP

#include "support/jack_loopback.hpp"

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <stdexcept>

namespace test {

/// Calls `bay.loop_new_ports()` (and, with `isolate`, `bay.isolate_new_inputs()`)
/// once the new ports are there, looking every 5 ms for half a second. Run it
/// next to the operation that opens them, with `&&`.
inline asio::awaitable<void> loop_when_open(jack_patchbay& bay, bool isolate = false)
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 100; ++i) {
        t.expires_after(std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
        try {
            bay.loop_new_ports();
            if (isolate) bay.isolate_new_inputs();
            co_return;
        } catch (const std::runtime_error&) { // the operation's stream has no ports yet
        }
    }
}

} // namespace test

#endif
