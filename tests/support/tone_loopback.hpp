// Test support: a 1 kHz tone played into a server's sink comes back from its
// monitor. Shared by the desktop tiers on Linux (tests/pulse) and by the same
// check run as a Windows program under wine (tests/windows).
#ifndef COAUDIO_TESTS_SUPPORT_TONE_LOOPBACK_HPP
#define COAUDIO_TESTS_SUPPORT_TONE_LOOPBACK_HPP

#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"
#include "support/tone.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

namespace test {

/// The tone of the loopback checks, and the level it must come back at.
struct loopback_tone {
    double rate = 48000;
    int channels = 2;
    double frequency = 1000;
    double amplitude = 0.5;
};

/// Plays the tone on every channel, one second at a time, until `playing` turns false.
inline asio::awaitable<void> play_tone(coaudio::output_stream& out,
                                       const std::atomic<bool>& playing, loopback_tone tone)
{
    const auto mono =
        sine(static_cast<std::size_t>(tone.rate), tone.frequency, tone.amplitude, tone.rate);
    std::vector<float> second;
    for (float x : mono)
        second.insert(second.end(), static_cast<std::size_t>(tone.channels), x);
    while (playing)
        co_await out.async_write_frames(std::span(second), asio::use_awaitable);
}

/// Frames of the longest run of silence in a sine (which has none of its
/// own): a gap the server played where the stream had data.
inline std::size_t longest_gap(std::span<const float> x)
{
    std::size_t run = 0, longest = 0;
    for (float v : x) {
        run = std::abs(v) < 1e-3f ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return longest;
}

/// Reads until four blocks in a row are loud, then `frames` more frames, one
/// vector per channel. A capture with a gap in it is taken again, up to four
/// times, each gap reported: PipeWire, when a client joins or on a busy
/// machine, may play a few milliseconds of silence into the sink that no
/// underflow counter shows.
inline asio::awaitable<std::vector<std::vector<float>>>
capture_after_onset(coaudio::input_stream& in, std::size_t frames, loopback_tone tone)
{
    const auto channels = static_cast<std::size_t>(tone.channels);
    std::vector<float> block(1024 * channels);
    for (int loud = 0; loud < 4;) {
        const std::size_t n = co_await in.async_read_frames(std::span(block), asio::use_awaitable);
        loud =
            coaudio::peak(std::span<const float>(block.data(), n * channels)) > tone.amplitude / 2
                ? loud + 1
                : 0;
    }
    std::vector<float> captured(frames * channels);
    for (int attempt = 0;; ++attempt) {
        // A read may end early, successfully, at an xrun: capture again after it.
        std::size_t n = 0;
        for (int i = 0; i < 10 && n < frames; ++i)
            n = co_await in.async_read_frames(std::span(captured), asio::use_awaitable);
        REQUIRE(n == frames);
        const std::size_t gap = longest_gap(captured) / channels;
        if (gap < 8 || attempt == 3) break;
        std::printf("a gap of %zu frames in the capture; capturing again\n", gap);
    }
    std::vector<std::vector<float>> planar(channels, std::vector<float>(frames));
    for (std::size_t i = 0; i < captured.size(); ++i)
        planar[i % channels][i / channels] = captured[i];
    co_return planar;
}

/// Starts both streams, plays the tone into `out` and checks that half a
/// second of it comes back from `in` at its frequency (±5 Hz) and level
/// (RMS ±0.02) on every channel, within `limit`.
inline void check_tone_loopback(asio::io_context& io, coaudio::input_stream& in,
                                coaudio::output_stream& out, loopback_tone tone,
                                std::chrono::milliseconds limit = std::chrono::seconds(15))
{
    in.start();
    out.start();
    std::atomic<bool> playing{true};
    asio::co_spawn(io, play_tone(out, playing, tone), asio::detached);
    run(
        io,
        [&]() -> asio::awaitable<void> {
            const auto captured =
                co_await capture_after_onset(in, static_cast<std::size_t>(tone.rate / 2), tone);
            playing = false;
            const auto ic = in.counters();
            const auto oc = out.counters();
            INFO("input: host overflows " << ic.host_overflows << ", frames dropped "
                                          << ic.frames_dropped << "; output: underflows "
                                          << oc.underflows << ", host underflows "
                                          << oc.host_underflows);
            for (std::size_t c = 0; c < captured.size(); ++c) {
                const double level = coaudio::rms(captured[c]);
                const double freq = zero_crossing_frequency(captured[c], tone.rate);
                INFO("channel " << c << ": rms " << level << " (" << coaudio::to_dbfs(level)
                                << " dBFS), frequency " << freq << " Hz");
                CHECK(std::abs(freq - tone.frequency) < 5.0);
                CHECK(std::abs(level - tone.amplitude / std::sqrt(2.0)) < 0.02);
            }
        }(),
        limit);
}

} // namespace test

#endif
