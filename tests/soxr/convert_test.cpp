// Sample-rate conversion on real PortAudio (JACK dummy server at 48 kHz, 256
// frames a period): a 44.1 kHz file plays through a loopback and comes back
// as a 1 kHz tone, a recording at 16 kHz mono is a 1 kHz tone, and the
// one-shots at rates the server does not run at complete with the frames asked
// for. Built only with libsoxr and libsndfile.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/resample.hpp>
#include <coaudio/sndfile.hpp>

#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/loop_when_open.hpp"
#include "support/run.hpp"
#include "support/scratch_dir.hpp"

#include <coaudio/level.hpp>
#include <coaudio/library.hpp>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using asio::use_awaitable;

namespace {

constexpr double server_rate = 48000;
constexpr unsigned long block = 256;

coaudio::stream_config jack_config(double rate = server_rate)
{
    return {.device = test::jack_device_index(),
            .channels = 1,
            .sample_rate = rate,
            .frames_per_block = block};
}

void check_tone(std::span<const float> x, double rate)
{
    INFO("rms " << coaudio::rms(x) << ", frequency " << test::interpolated_frequency(x, rate)
                << " Hz at " << rate);
    CHECK(std::abs(coaudio::rms(x) - 0.5 / std::sqrt(2.0)) < 0.01);
    CHECK(std::abs(test::interpolated_frequency(x, rate) - 1000.0) < 1.0);
}

} // namespace

TEST_CASE("a 44.1 kHz file plays on the 48 kHz server and a 16 kHz file records from it",
          "[realtime]")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    test::scratch_dir dir("coaudio-soxr-jack");
    asio::io_context io;
    {
        auto f = coaudio::sound_file::create(dir / "cd.wav", 44100, 1);
        f.write_frames(std::span<const float>(test::sine(44100, 1000, 0.5, 44100)));
    }
    auto cd = coaudio::sound_file::open(dir / "cd.wav");
    auto speech =
        coaudio::sound_file::create(dir / "speech.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);

    test::jack_patchbay bay;
    bay.mark();
    coaudio::output_stream out(io, jack_config());
    coaudio::input_stream in(io, jack_config());
    bay.loop_new_ports();
    std::uint64_t played = 0, recorded = 0;
    test::run(io, [&]() -> asio::awaitable<void> {
        auto [p, r] = co_await (coaudio::async_play_file(out, cd, use_awaitable) &&
                                coaudio::async_record_file(in, speech, 12000, use_awaitable));
        played = p;
        recorded = r;
    }());
    CHECK(played == 44100); // the file's frames
    CHECK(recorded == 12000);
    speech.close();

    auto back = coaudio::sound_file::open(dir / "speech.wav");
    REQUIRE(back.sample_rate() == 16000);
    std::vector<float> rec(12000);
    REQUIRE(back.read_frames(std::span(rec)) == 12000);
    // Past the loopback's first periods and the filters' edges, the 44.1 kHz
    // tone is back at 16 kHz: 0.25 s to 0.75 s.
    check_tone(std::span<const float>(rec).subspan(4000, 8000), 16000);
}

TEST_CASE("async_record at 16 kHz mono returns a 1 kHz tone from the 48 kHz server", "[realtime]")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    coaudio::output_stream out(io, jack_config());
    const auto tone = test::sine(static_cast<std::size_t>(2 * server_rate), 1000, 0.5, server_rate);
    std::vector<float> rec;
    test::run(io, [&]() -> asio::awaitable<void> {
        auto record = [&]() -> asio::awaitable<void> {
            rec = co_await coaudio::async_record(
                io, 16000, 16000, {.device = test::jack_device_index()}, use_awaitable);
        };
        co_await (coaudio::async_play(out, std::span(tone), use_awaitable) &&
                  (test::loop_when_open(bay) && record()));
    }());
    REQUIRE(rec.size() == 16000);
    // The second half: the wiring took a few periods.
    check_tone(std::span<const float>(rec).subspan(8000, 7000), 16000);
}

TEST_CASE("the one-shots at rates the server does not run at complete with the frames asked for")
{
    coaudio::library lib;
    asio::io_context io;
    const int dev = test::jack_device_index();
    const auto tone = test::sine(22050, 1000, 0.5, 44100); // 0.5 s at 44.1 kHz
    test::run(io, [&]() -> asio::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        co_await coaudio::async_play(io, std::span<const float>(tone), 44100, {.device = dev},
                                     use_awaitable);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        CHECK(elapsed >= 0.5);

        const auto rec = co_await coaudio::async_playrec(
            io, std::span<const float>(tone), 44100,
            {.input = {.device = dev, .channels = 2}, .output = {.device = dev}}, use_awaitable);
        CHECK(rec.size() == 2 * tone.size());

        const auto mono =
            co_await coaudio::async_record(io, 8000, 16000, {.device = dev}, use_awaitable);
        CHECK(mono.size() == 8000);
    }());
}
