// Real audio through a desktop server (PulseAudio, or PipeWire behind
// pipewire-pulse), reached through PortAudio's ALSA host and ALSA's `pulse`
// plugin: a tone played into the null sink comes back from its monitor, and
// the meter example reads it.
#include <coaudio/coaudio.hpp>

#include "pulse/desktop.hpp"
#include "support/catch.hpp"
#include "support/tone_loopback.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

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

namespace {

// 1 kHz at 0.5, in stereo as the null sink is: a mono stream would be mixed
// to stereo and back, and PulseAudio and PipeWire mix at different levels
// (PipeWire's mono capture of the monitor reads the 0.5 sine at RMS 0.5, not 0.354).
constexpr test::loopback_tone tone{.rate = 48000, .channels = 2};

coaudio::stream_config config()
{
    // 100 ms: with the host's default (tens of ms) a PipeWire without
    // realtime scheduling, on a busy machine, plays gaps of silence into the
    // sink that neither PortAudio nor coaudio hears of (no underflow counted).
    return {.device = test::desktop_device_index(),
            .channels = tone.channels,
            .sample_rate = tone.rate,
            .latency = coaudio::latency_hint::seconds(0.1)};
}

// The first dBFS figure after `key` ("rms=-9.03,-9.03" or "RMS -9.03 dBFS").
std::optional<double> figure(const std::string& line, const char* key)
{
    std::smatch m;
    if (!std::regex_search(
            line, m,
            std::regex(std::string(key) + "[=: ]+(-?[0-9]+(\\.[0-9]+)?)", std::regex::icase)))
        return std::nullopt;
    return std::stod(m[1].str());
}

// Lines the child writes to `fd` within `limit`, stopping after `wanted` that match `key`.
std::vector<std::string> read_lines(int fd, const char* key, std::size_t wanted,
                                    std::chrono::milliseconds limit)
{
    std::vector<std::string> lines;
    std::string pending;
    std::size_t matching = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (matching < wanted) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[512];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos;
             pending.erase(0, eol + 1)) {
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
    test::check_tone_loopback(io, in, out, tone);
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
    asio::co_spawn(io, test::play_tone(out, playing, tone), asio::detached);
    std::thread player([&] { io.run(); });

    // The meter's default capture device is the server's default source, the
    // null sink's monitor; its stdout is a pipe, so it prints plain lines.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    // At the tone's rate: at the device's default (44.1 kHz) the server
    // resamples, and a gap it plays on a busy machine rings through the
    // resampler to peaks above the tone's (-5.5 dBFS seen on PipeWire).
    const pid_t pid = test::spawn({meter, "--device", test::desktop_device_name, "--rate", "48000"},
                                  fds[1], false);
    ::close(fds[1]);
    // One line a second by default: the second one has heard the tone throughout.
    const auto lines = read_lines(fds[0], "rms", 2, 10s);
    ::kill(pid, SIGTERM);
    const auto status = test::wait_exit(pid, 5s);
    ::close(fds[0]);
    playing = false;
    player.join();

    for (const auto& l : lines)
        std::printf("meter: %s\n", l.c_str());
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
