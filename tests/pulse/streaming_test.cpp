// Real audio through a desktop server (PulseAudio, or PipeWire behind
// pipewire-pulse), reached through PortAudio's ALSA host and ALSA's `pulse`
// plugin: a tone played into the null sink comes back from its monitor, and
// the meter example reads it.
#include <coaudio/coaudio.hpp>

#include "pulse/desktop.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp" // test::sine, test::zero_crossing_frequency
#include "support/run.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>

using namespace std::chrono_literals;
using asio::use_awaitable;

namespace {

constexpr double rate = 48000;
constexpr double amplitude = 0.5;
constexpr double tone_hz = 1000;

// Stereo, as the null sink is: a mono stream would be mixed to stereo and
// back, and PulseAudio and PipeWire mix at different levels (PipeWire's mono
// capture of the monitor reads the 0.5 sine at RMS 0.5, not 0.354).
constexpr int channels = 2;

coaudio::stream_config config()
{
    // 100 ms: with the host's default (tens of ms) a PipeWire without
    // realtime scheduling, on a busy machine, plays gaps of silence into the
    // sink that neither PortAudio nor coaudio hears of (no underflow counted).
    return {.device = test::desktop_device_index(),
            .channels = channels,
            .sample_rate = rate,
            .latency = coaudio::latency_hint::seconds(0.1)};
}

// Plays the tone on both channels, one second at a time, until `playing` turns false.
asio::awaitable<void> play_tone(coaudio::output_stream& out, const std::atomic<bool>& playing)
{
    const auto mono = test::sine(static_cast<std::size_t>(rate), tone_hz, amplitude, rate);
    std::vector<float> second;
    for (float x : mono) second.insert(second.end(), channels, x);
    while (playing) co_await out.async_write_frames(std::span(second), use_awaitable);
}

// Frames of the longest run of silence in a sine (which has none of its own):
// a gap the server played where the stream had data.
std::size_t longest_gap(std::span<const float> x)
{
    std::size_t run = 0, longest = 0;
    for (float v : x) {
        run = std::abs(v) < 1e-3f ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return longest;
}

// Reads until four blocks in a row are loud, then `frames` more frames, one
// vector per channel. A capture with a gap in it is taken again, up to four
// times, each gap reported: PipeWire, when a client joins or on a busy
// machine, may play a few milliseconds of silence into the sink that no
// underflow counter shows.
asio::awaitable<std::vector<std::vector<float>>> capture_after_onset(coaudio::input_stream& in, std::size_t frames)
{
    std::vector<float> block(1024 * channels);
    for (int loud = 0; loud < 4;) {
        const std::size_t n = co_await in.async_read_frames(std::span(block), use_awaitable);
        loud = coaudio::peak(std::span<const float>(block.data(), n * channels)) > amplitude / 2 ? loud + 1 : 0;
    }
    std::vector<float> captured(frames * channels);
    for (int attempt = 0;; ++attempt) {
        // A read may end early, successfully, at an xrun: capture again after it.
        std::size_t n = 0;
        for (int i = 0; i < 10 && n < frames; ++i)
            n = co_await in.async_read_frames(std::span(captured), use_awaitable);
        REQUIRE(n == frames);
        const std::size_t gap = longest_gap(captured) / channels;
        if (gap < 8 || attempt == 3) break;
        std::printf("a gap of %zu frames in the capture; capturing again\n", gap);
    }
    std::vector<std::vector<float>> planar(channels, std::vector<float>(frames));
    for (std::size_t i = 0; i < captured.size(); ++i) planar[i % channels][i / channels] = captured[i];
    co_return planar;
}

// The first dBFS figure after `key` ("rms=-9.03,-9.03" or "RMS -9.03 dBFS").
std::optional<double> figure(const std::string& line, const char* key)
{
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(std::string(key) + "[=: ]+(-?[0-9]+(\\.[0-9]+)?)", std::regex::icase)))
        return std::nullopt;
    return std::stod(m[1].str());
}

// Lines the child writes to `fd` within `limit`, stopping after `wanted` that match `key`.
std::vector<std::string> read_lines(int fd, const char* key, std::size_t wanted, std::chrono::milliseconds limit)
{
    std::vector<std::string> lines;
    std::string pending;
    std::size_t matching = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (matching < wanted) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[512];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
            lines.push_back(pending.substr(0, eol));
            if (figure(lines.back(), key)) ++matching;
        }
    }
    return lines;
}

} // namespace

TEST_CASE("a 1 kHz tone played into the null sink comes back from its monitor", "[loopback]")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::output_stream out(io, config());
    coaudio::input_stream in(io, config());
    in.start();
    out.start();
    std::atomic<bool> playing{true};
    asio::co_spawn(io, play_tone(out, playing), asio::detached);
    test::run(io, [&]() -> asio::awaitable<void> {
        const auto captured = co_await capture_after_onset(in, static_cast<std::size_t>(rate / 2));
        playing = false;
        const auto ic = in.counters();
        const auto oc = out.counters();
        INFO("input: host overflows " << ic.host_overflows << ", frames dropped " << ic.frames_dropped
                                      << "; output: underflows " << oc.underflows << ", host underflows "
                                      << oc.host_underflows);
        for (int c = 0; c < channels; ++c) {
            const double level = coaudio::rms(captured[c]);
            const double freq = test::zero_crossing_frequency(captured[c], rate);
            INFO("channel " << c << ": rms " << level << " (" << coaudio::to_dbfs(level) << " dBFS), frequency "
                            << freq << " Hz");
            CHECK(std::abs(freq - tone_hz) < 5.0);
            CHECK(std::abs(level - amplitude / std::sqrt(2.0)) < 0.02);
        }
    }(), 15s);
    std::printf("loopback through %s: ok\n", test::desktop_device_name);
}

TEST_CASE("the meter example reads a tone played into the server", "[meter]")
{
    const std::string meter = test::required_env("COAUDIO_METER");
    coaudio::library lib;
    asio::io_context io;
    coaudio::output_stream out(io, config());
    out.start();
    std::atomic<bool> playing{true};
    asio::co_spawn(io, play_tone(out, playing), asio::detached);
    std::thread player([&] { io.run(); });

    // The meter's default capture device is the server's default source, the
    // null sink's monitor; its stdout is a pipe, so it prints plain lines.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = test::spawn({meter, "--device", test::desktop_device_name}, fds[1], false);
    ::close(fds[1]);
    // One line a second by default: the second one has heard the tone throughout.
    const auto lines = read_lines(fds[0], "rms", 2, 10s);
    ::kill(pid, SIGTERM);
    const auto status = test::wait_exit(pid, 5s);
    ::close(fds[0]);
    playing = false;
    player.join();

    for (const auto& l : lines) std::printf("meter: %s\n", l.c_str());
    CHECK(status == 0);
    REQUIRE(lines.size() >= 2);
    const auto rms = figure(lines.back(), "rms");
    const auto peak = figure(lines.back(), "peak");
    REQUIRE(rms);
    REQUIRE(peak);
    // A 0.5-amplitude sine: RMS -9.03 dBFS, peak -6.02 dBFS.
    CHECK(std::abs(*rms - -9.03) < 0.5);
    CHECK(std::abs(*peak - -6.02) < 0.5);
}
