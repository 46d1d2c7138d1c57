// Device channels chosen with stream_config::mapping, on the virtual device:
// what an output maps lands on exactly those device channels (the others are
// silent), and an input takes exactly the channels it maps, in its order,
// bit for bit, for every sample size; bad mappings are refused with words.
#include <coaudio/virtual_device.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <system_error>
#include <vector>

using asio::use_awaitable;

namespace {

constexpr std::size_t block = 64;
constexpr std::size_t blocks = 8;

// A distinct value for every (frame, channel), never 0 (the silence) and
// exact in every sample format.
template <class Sample>
Sample value(std::size_t frame, std::size_t channel)
{
    return static_cast<Sample>(1 + (frame * 7 + channel * 3) % 100);
}

// Plays `out_cfg` frames of `value` through the virtual device into an input
// opened with `in_cfg`, and returns what the input read, interleaved; the
// loopback is one block late, which is dropped.
template <class Sample>
std::vector<Sample> loop(const coaudio::stream_config& out_cfg,
                         const coaudio::stream_config& in_cfg)
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::output_stream out(io);
    coaudio::input_stream in(io);
    dev.open(out, out_cfg);
    dev.open(in, in_cfg);
    const auto out_ch = static_cast<std::size_t>(out.channels());
    const auto in_ch = static_cast<std::size_t>(in.channels());
    std::vector<Sample> played(block * blocks * out_ch);
    for (std::size_t i = 0; i < played.size(); ++i)
        played[i] = value<Sample>(i / out_ch, i % out_ch);
    std::vector<Sample> got(block * (blocks + 1) * in_ch);
    out.start();
    in.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await out.async_write_frames(std::span(played), use_awaitable);
        dev.step(blocks + 1);
        std::size_t n = co_await in.async_read_frames(std::span(got), use_awaitable);
        CHECK(n == block * (blocks + 1));
    }());
    CHECK(in.counters().frames_dropped == 0);
    CHECK(out.counters().frames ==
          block * blocks); // then one block of silence, as the input reads on
    return {got.begin() + static_cast<std::ptrdiff_t>(block * in_ch), got.end()};
}

// Reads `got` (frames of `channels`) at frame f, channel c.
template <class Sample>
Sample at(const std::vector<Sample>& got, std::size_t channels, std::size_t f, std::size_t c)
{
    return got[f * channels + c];
}

template <class Sample>
void check_output_and_input_mapping(coaudio::sample_format format)
{
    SECTION("an output's channels land on the device channels it maps; the others are silent")
    {
        // Stream channels 1, 2 on device outputs 4 and 2 of 4.
        const auto got =
            loop<Sample>({.format = format, .mapping = {4, 2}}, {.channels = 4, .format = format});
        REQUIRE(got.size() == block * blocks * 4);
        bool exact = true;
        for (std::size_t f = 0; f < block * blocks; ++f) {
            exact = exact && at(got, 4, f, 3) == value<Sample>(f, 0) &&
                    at(got, 4, f, 1) == value<Sample>(f, 1);
            exact = exact && at(got, 4, f, 0) == Sample{} && at(got, 4, f, 2) == Sample{};
        }
        CHECK(exact);
    }
    SECTION("an input takes the device channels it maps, in its order")
    {
        // Device inputs 3 and 1 of 3 as stream channels 1 and 2.
        const auto got =
            loop<Sample>({.channels = 3, .format = format}, {.format = format, .mapping = {3, 1}});
        REQUIRE(got.size() == block * blocks * 2);
        bool exact = true;
        for (std::size_t f = 0; f < block * blocks; ++f)
            exact = exact && at(got, 2, f, 0) == value<Sample>(f, 2) &&
                    at(got, 2, f, 1) == value<Sample>(f, 0);
        CHECK(exact);
    }
}

std::string refusal(const coaudio::stream_config& cfg)
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::input_stream in(io);
    try {
        dev.open(in, cfg);
    } catch (const std::system_error& e) {
        CHECK(e.code() == coaudio::errc::invalid_channels);
        return e.what();
    }
    return "opened";
}

} // namespace

TEST_CASE("mapping: float32")
{
    check_output_and_input_mapping<float>(coaudio::sample_format::float32);
}
TEST_CASE("mapping: int32")
{
    check_output_and_input_mapping<std::int32_t>(coaudio::sample_format::int32);
}
TEST_CASE("mapping: int16")
{
    check_output_and_input_mapping<std::int16_t>(coaudio::sample_format::int16);
}
TEST_CASE("mapping: int8")
{
    check_output_and_input_mapping<std::int8_t>(coaudio::sample_format::int8);
}

TEST_CASE("a mapping names the stream's channels")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in, {.mapping = {5, 2, 7}});
    CHECK(in.channels() == 3);
    const auto p = in.params();
    CHECK(p.device_channels() == 7);
    CHECK(p.mapped == 3);
    CHECK(p.mapping[0] == 4);
    CHECK(p.mapping[1] == 1);
    CHECK(p.mapping[2] == 6);
}

TEST_CASE("a bad mapping is refused, naming what is wrong")
{
    CHECK_THAT(refusal({.mapping = {1, 0}}),
               Catch::Contains("mapping {1, 0}: channel 0 is not from 1 to"));
    CHECK_THAT(refusal({.mapping = {2, 3, 2}}),
               Catch::Contains("mapping {2, 3, 2}: channel 2 is named twice"));
    CHECK_THAT(refusal({.channels = 3, .mapping = {1, 2}}),
               Catch::Contains("mapping {1, 2}: it names 2 channels, and channels is 3"));
    std::vector<int> many(coaudio::max_mapped_channels + 1);
    std::iota(many.begin(), many.end(), 1);
    CHECK_THAT(refusal({.mapping = many}), Catch::Contains("at most 64 channels"));
}
