// Test support: runs a coroutine to completion on an io_context, bounded in time.
#ifndef COAUDIO_TESTS_SUPPORT_RUN_HPP
#define COAUDIO_TESTS_SUPPORT_RUN_HPP

#include <coaudio/config.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>

namespace test {

/// Runs `coro` on `io` until it finishes or `limit` passes, and says whether
/// it finished; rethrows what it threw. Catch2 assertions inside the
/// coroutine run on this thread and surface here. A coroutine that did not
/// finish may still finish in a later run of `io`.
template <class T>
bool run_for(asio::io_context& io, asio::awaitable<T> coro,
             std::chrono::steady_clock::duration limit)
{
    auto done = std::make_shared<std::optional<std::exception_ptr>>();
    asio::co_spawn(io, std::move(coro), [done](std::exception_ptr e, auto&&...) { *done = e; });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!*done && std::chrono::steady_clock::now() < deadline)
        io.run_one_until(deadline);
    if (*done && **done) std::rethrow_exception(**done);
    return done->has_value();
}

/// Runs `coro` on `io` until it finishes; fails (throws) if it does not
/// finish within `limit` or if it threw.
template <class T>
void run(asio::io_context& io, asio::awaitable<T> coro,
         std::chrono::milliseconds limit = std::chrono::seconds(20))
{
    if (!run_for(io, std::move(coro), limit))
        throw std::runtime_error("coroutine did not finish in time: an operation hung");
}

} // namespace test

#endif
