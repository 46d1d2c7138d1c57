// Test support: audio played in the background, by a coroutine that owns it.
//
// A write reads its samples until it completes, and a write left running in the
// background can outlive the coroutine that started it: a test ends when its
// measurement is done, not when the tone it played is. The samples therefore
// live in the writing coroutine's frame, never in the caller's, so they last
// as long as the write does, however the test ends.
#ifndef COAUDIO_TESTS_SUPPORT_PLAY_HPP
#define COAUDIO_TESTS_SUPPORT_PLAY_HPP

#include <coaudio/coaudio.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <span>
#include <vector>

namespace test {

/// Writes all of `samples` (interleaved) to `out`; the frame owns them.
template <class T>
asio::awaitable<void> write_owned(coaudio::output_stream& out, std::vector<T> samples)
{
    co_await out.async_write_frames(std::span<const T>(samples), asio::use_awaitable);
}

/// Writes one vector per channel (planar) to `out`; the frame owns them.
template <class T>
asio::awaitable<void> write_owned_planar(coaudio::output_stream& out,
                                         std::vector<std::vector<T>> channels)
{
    std::vector<std::span<const T>> planes(channels.begin(), channels.end());
    co_await out.async_write_frames(std::span<const std::span<const T>>(planes),
                                    asio::use_awaitable);
}

/// Starts writing `samples` to `out` and returns at once. The write ends when
/// it is done, fails, or the stream is closed; its outcome is not looked at.
template <class T>
void play_in_background(coaudio::output_stream& out, std::vector<T> samples)
{
    asio::co_spawn(out.get_executor(), write_owned(out, std::move(samples)), asio::detached);
}

/// The planar form of play_in_background: one vector per channel.
template <class T>
void play_planar_in_background(coaudio::output_stream& out, std::vector<std::vector<T>> channels)
{
    asio::co_spawn(out.get_executor(), write_owned_planar(out, std::move(channels)),
                   asio::detached);
}

} // namespace test

#endif
