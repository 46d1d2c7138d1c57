// Device channels chosen with stream_config::mapping, on a JACK server of the
// test's own with 8 capture and 8 playback ports: each device channel carries
// a tone of its own frequency, and each mapped channel is checked by it.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/private_jack.hpp"
#include "support/run.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <vector>

using asio::use_awaitable;

namespace {

constexpr double rate = 48000;
constexpr unsigned long block = 256;
constexpr int device_channels = 8;
constexpr double amplitude = 0.5;

// Device channel k (from 1) carries 250·k Hz.
double tone_of(int device_channel)
{
    return 250.0 * device_channel;
}

coaudio::stream_config config(int channels, std::vector<int> mapping = {})
{
    return {.device = test::jack_device_index(),
            .channels = channels,
            .sample_rate = rate,
            .frames_per_block = block,
            .mapping = std::move(mapping)};
}

// Plays, one second at a time until `playing` turns false, the tone of
// device channel `devices[c]` on the stream's channel c.
asio::awaitable<void> play(coaudio::output_stream& out, std::vector<int> devices,
                           const std::atomic<bool>& playing)
{
    const std::size_t frames = static_cast<std::size_t>(rate);
    std::vector<float> second(frames * devices.size());
    for (std::size_t c = 0; c < devices.size(); ++c) {
        const auto tone = test::sine(frames, tone_of(devices[c]), amplitude, rate);
        for (std::size_t f = 0; f < frames; ++f)
            second[f * devices.size() + c] = tone[f];
    }
    while (playing)
        co_await out.async_write_frames(std::span<const float>(second), use_awaitable);
}

// Half a second from `in`, once its channel `loud` has carried sound for a
// while, one vector per channel.
asio::awaitable<std::vector<std::vector<float>>> capture(coaudio::input_stream& in,
                                                         std::size_t loud)
{
    const auto channels = static_cast<std::size_t>(in.channels());
    std::vector<float> buf(block * channels);
    for (int heard = 0; heard < 8;) {
        const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
        float peak = 0;
        for (std::size_t f = 0; f < n; ++f)
            peak = std::max(peak, std::abs(buf[f * channels + loud]));
        heard = peak > amplitude / 2 ? heard + 1 : 0;
    }
    const std::size_t frames = static_cast<std::size_t>(rate / 2);
    std::vector<float> got(frames * channels);
    std::size_t n = 0;
    for (int i = 0; i < 10 && n < frames; ++i) // a read may end early at a gap
        n = co_await in.async_read_frames(std::span(got), use_awaitable);
    REQUIRE(n == frames);
    std::vector<std::vector<float>> planar(channels, std::vector<float>(frames));
    for (std::size_t i = 0; i < got.size(); ++i)
        planar[i % channels][i / channels] = got[i];
    co_return planar;
}

// Checks that `x` is the tone of device channel `device`, or silence for 0.
void check_channel(const std::vector<float>& x, int device, const char* what, std::size_t index)
{
    const double level = coaudio::rms(x);
    const double freq = test::zero_crossing_frequency(x, rate);
    INFO(what << " channel " << index + 1 << ": rms " << level << ", " << freq << " Hz; expected "
              << (device == 0 ? std::string("silence")
                              : "device channel " + std::to_string(device)));
    if (device == 0) {
        CHECK(coaudio::peak(x) == 0.0f);
    } else {
        CHECK(std::abs(freq - tone_of(device)) < 2.0);
        CHECK(std::abs(level - amplitude / std::sqrt(2.0)) < 0.01);
    }
}

} // namespace

TEST_CASE("mapped channels reach exactly the device channels they name", "[realtime]")
{
    test::private_jack_server server("coaudio-mapping-test", device_channels);
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    std::atomic<bool> playing{true};

    SECTION("output: stream channels 1, 2 on device outputs 3 and 6; the others silent")
    {
        bay.mark();
        coaudio::output_stream out(io, config(1, {3, 6}));
        coaudio::input_stream in(io, config(device_channels));
        CHECK(out.params().device_channels() == 6);
        in.start();
        out.start();
        bay.loop_new_ports();
        bay.isolate_new_inputs();
        asio::co_spawn(io, play(out, {3, 6}, playing), asio::detached);
        test::run(io, [&]() -> asio::awaitable<void> {
            const auto got = co_await capture(in, 2);
            playing = false;
            for (std::size_t c = 0; c < got.size(); ++c)
                check_channel(got[c], c == 2 ? 3 : c == 5 ? 6 : 0, "device", c);
        }());
    }
    SECTION("input: device inputs 6 and 3 as stream channels 1 and 2")
    {
        bay.mark();
        std::vector<int> all(device_channels);
        for (int k = 0; k < device_channels; ++k)
            all[static_cast<std::size_t>(k)] = k + 1;
        coaudio::output_stream out(io, config(device_channels));
        coaudio::input_stream in(io, config(1, {6, 3}));
        CHECK(in.channels() == 2);
        in.start();
        out.start();
        bay.loop_new_ports();
        bay.isolate_new_inputs();
        asio::co_spawn(io, play(out, all, playing), asio::detached);
        test::run(io, [&]() -> asio::awaitable<void> {
            const auto got = co_await capture(in, 0);
            playing = false;
            check_channel(got[0], 6, "stream", 0);
            check_channel(got[1], 3, "stream", 1);
        }());
    }
}
