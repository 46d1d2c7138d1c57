// Test support: runs a coroutine to completion on an io_context, bounded in time.
#ifndef COAUDIO_TESTS_SUPPORT_RUN_HPP
#define COAUDIO_TESTS_SUPPORT_RUN_HPP

#include <coaudio/config.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace test {

/// Runs `coro` on `io` until it finishes; fails (throws) if it does not
/// finish within `limit` or if it threw. Catch2 assertions inside the
/// coroutine run on this thread and surface here.
template <class T>
void run(asio::io_context& io, asio::awaitable<T> coro,
         std::chrono::milliseconds limit = std::chrono::seconds(20))
{
    std::optional<std::exception_ptr> done;
    asio::co_spawn(io, std::move(coro), [&](std::exception_ptr e, auto&&...) { done = e; });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline)
        io.run_one_until(deadline);
    if (!done) throw std::runtime_error("coroutine did not finish in time: an operation hung");
    if (*done) std::rethrow_exception(*done);
}

} // namespace test

#endif
