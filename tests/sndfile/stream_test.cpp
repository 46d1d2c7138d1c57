// coaudio/sndfile.hpp on real PortAudio (JACK dummy server, 48 kHz, two
// channels each way): files played and recorded, through the loopback too,
// and files the device refuses.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/sndfile.hpp>

#include "support/aborted.hpp"
#include "support/awaitable_ops.hpp"
#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/run.hpp"
#include "support/scratch_dir.hpp"

#include <coaudio/level.hpp>
#include <coaudio/library.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using asio::use_awaitable;

namespace {

constexpr double rate = 48000;
constexpr unsigned long block = 256;

// A sine file: `seconds` at `file_rate`, `channels` identical channels.
void write_tone(const fs::path& path, double seconds, double file_rate, int channels,
                int format = 0)
{
    auto f = coaudio::sound_file::create(path, file_rate, channels, format);
    const auto mono =
        test::sine(static_cast<std::size_t>(seconds * file_rate), 1000, 0.5, file_rate);
    std::vector<float> frames(mono.size() * static_cast<std::size_t>(channels));
    for (std::size_t i = 0; i < mono.size(); ++i)
        for (int c = 0; c < channels; ++c)
            frames[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] = mono[i];
    f.write_frames(std::span<const float>(frames));
}

coaudio::stream_config jack_config(int channels = 1)
{
    return {.device = test::jack_device_index(),
            .channels = channels,
            .sample_rate = rate,
            .frames_per_block = block};
}

} // namespace

TEST_CASE("a file played into the loopback comes back into a recorded file")
{
    using namespace awaitable_ops;
    coaudio::library lib;
    test::scratch_dir dir("coaudio-sndfile-jack");
    write_tone(dir / "tone.flac", 1.0, rate, 1);

    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    coaudio::output_stream out(io, jack_config());
    coaudio::input_stream in(io, jack_config());
    bay.loop_new_ports();
    auto source = coaudio::sound_file::open(dir / "tone.flac");
    auto sink =
        coaudio::sound_file::create(dir / "back.wav", rate, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    test::run(io, [&]() -> asio::awaitable<void> {
        auto [played, recorded] =
            co_await (coaudio::async_play_file(out, source, use_awaitable) &&
                      coaudio::async_record_file(in, sink, 24000, use_awaitable));
        CHECK(played == 48000);
        CHECK(recorded == 24000);
    }());
    sink.close();

    auto back = coaudio::sound_file::open(dir / "back.wav");
    REQUIRE(back.frames() == 24000);
    std::vector<float> rec(24000);
    REQUIRE(back.read_frames(std::span(rec)) == 24000);
    const std::span<const float> steady = std::span<const float>(rec).subspan(4800);
    INFO("rms " << coaudio::rms(steady) << " frequency "
                << test::zero_crossing_frequency(steady, rate));
    CHECK(std::abs(coaudio::rms(steady) - 0.3536) < 0.01);
    CHECK(std::abs(test::zero_crossing_frequency(steady, rate) - 1000.0) < 5.0);
}

TEST_CASE("a file plays on a device of its own and a recording lands in a new file")
{
    coaudio::library lib;
    test::scratch_dir dir("coaudio-sndfile-jack");
    asio::io_context io;
    const int dev = test::jack_device_index();
    write_tone(dir / "stereo.wav", 0.5, rate, 2);

    test::run(io, [&]() -> asio::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        auto [ec] = co_await coaudio::async_play_file(io.get_executor(), dir / "stereo.wav",
                                                      {.device = dev, .frames_per_block = block},
                                                      coaudio::as_tuple(use_awaitable));
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        INFO("0.5 s file played in " << elapsed << " s");
        CHECK(!ec);
        CHECK(elapsed >= 0.5);

        const std::uint64_t n =
            co_await coaudio::async_record_file(io.get_executor(), dir / "rec.flac", 12000, rate,
                                                {.device = dev, .channels = 2}, use_awaitable);
        CHECK(n == 12000);
    }());
    auto rec = coaudio::sound_file::open(dir / "rec.flac");
    CHECK(rec.frames() == 12000);
    CHECK(rec.channels() == 2);
    CHECK(rec.format() == (SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
}

TEST_CASE("a cancelled recording leaves a whole file of what was recorded")
{
    coaudio::library lib;
    test::scratch_dir dir("coaudio-sndfile-jack");
    asio::io_context io;
    asio::cancellation_signal cancel;
    std::optional<std::error_code> result;
    std::uint64_t frames = 0;
    coaudio::async_record_file(
        io, dir / "cut.wav", 10 * 48000, rate, {.device = test::jack_device_index()},
        asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, std::uint64_t n) {
            result = ec;
            frames = n;
        }));
    asio::steady_timer timer(io, 300ms);
    timer.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
    io.run_for(5s);
    REQUIRE(result.has_value());
    INFO(frames << " frames recorded before the cancellation");
    CHECK(*result == test::operation_aborted());
    CHECK(frames > 0.1 * rate);
    CHECK(frames < 0.5 * rate);
    CHECK(coaudio::sound_file::open(dir / "cut.wav").frames() == frames);
}

TEST_CASE("files the device or libsndfile refuse give clear errors")
{
    coaudio::library lib;
    test::scratch_dir dir("coaudio-sndfile-jack");
    asio::io_context io;
    const int dev = test::jack_device_index();
    write_tone(dir / "cd.wav", 0.1, 44100, 2);   // JACK runs at 48 kHz
    write_tone(dir / "three.wav", 0.1, rate, 3); // the JACK device has two channels
    std::ofstream(dir / "notes.wav") << "not sound\n";

    std::vector<std::error_code> errors;
    auto keep = [&](std::error_code ec, auto&&...) { errors.push_back(ec); };
    coaudio::async_play_file(io, dir / "cd.wav", {.device = dev}, keep);
    coaudio::async_play_file(io, dir / "three.wav", {.device = dev}, keep);
    coaudio::async_play_file(io, dir / "missing.wav", {.device = dev}, keep);
    coaudio::async_play_file(io, dir / "notes.wav", {.device = dev}, keep);
    coaudio::async_record_file(io, dir / "out.xyz", 480, rate, {.device = dev}, keep);
    coaudio::async_record_file(io, dir / "out3.wav", 480, rate, {.device = dev, .channels = 3},
                               keep);
    io.run_for(5s);
    REQUIRE(errors.size() == 6);
    for (const auto& ec : errors)
        UNSCOPED_INFO(ec.message());
    CHECK(errors[0] == coaudio::errc::invalid_sample_rate);
    CHECK(errors[1] == coaudio::errc::invalid_channels);
    CHECK(errors[2] == std::errc::no_such_file_or_directory);
    CHECK(errors[3] == std::errc::not_supported);
    CHECK(errors[4] == std::errc::not_supported);
    CHECK(errors[5] == coaudio::errc::invalid_channels);
    CHECK_FALSE(fs::exists(dir / "out.xyz"));
    CHECK_FALSE(fs::exists(dir / "out3.wav"));

    // A file that does not match a stream of the caller's.
    coaudio::output_stream out(io, jack_config(2));
    auto cd = coaudio::sound_file::open(dir / "cd.wav"); // stereo, 44.1 kHz
    write_tone(dir / "mono.wav", 0.1, rate, 1);
    auto wrong_channels = coaudio::sound_file::open(dir / "mono.wav");
    test::run(io, [&]() -> asio::awaitable<void> {
        auto [e1, n1] =
            co_await coaudio::async_play_file(out, cd, coaudio::as_tuple(use_awaitable));
        CHECK(e1 == coaudio::errc::invalid_sample_rate);
        auto [e2, n2] = co_await coaudio::async_play_file(out, wrong_channels,
                                                          coaudio::as_tuple(use_awaitable));
        CHECK(e2 == coaudio::errc::invalid_channels);
        CHECK(n1 + n2 == 0);
    }());
}
