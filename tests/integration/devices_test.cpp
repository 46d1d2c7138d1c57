// Devices, settings checks and every sample format on real PortAudio (JACK).
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/play.hpp"
#include "support/run.hpp"

#include <asio/use_awaitable.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using asio::use_awaitable;

namespace {
constexpr double rate = 48000;
constexpr std::size_t block = 256;
} // namespace

TEST_CASE("devices and host APIs are listed as values")
{
    coaudio::library lib;
    const auto apis = coaudio::host_apis();
    REQUIRE_FALSE(apis.empty());
    const auto jack = std::find_if(apis.begin(), apis.end(), [](const auto& a) {
        return a.name.find("JACK") != std::string::npos;
    });
    REQUIRE(jack != apis.end());
    CHECK(jack->device_count >= 1);
    const coaudio::device_info d = coaudio::device(test::jack_device_index());
    CHECK(d.name == "system");
    CHECK(d.host_api == jack->index);
    CHECK(d.max_input_channels == 2);
    CHECK(d.max_output_channels == 2);
    CHECK(d.default_sample_rate == rate);
    CHECK(d.default_high_output_latency >= d.default_low_output_latency);
    const auto def_in = coaudio::default_input_device();
    const auto def_out = coaudio::default_output_device();
    REQUIRE(def_in);
    REQUIRE(def_out);
    CHECK(def_in->max_input_channels > 0);
    CHECK(def_out->max_output_channels > 0);
    CHECK(coaudio::default_host_api().index >= 0);
}

TEST_CASE("a device is found by exact name, by substring and within a host API")
{
    coaudio::library lib;
    const int jack = test::jack_device_index();
    CHECK(coaudio::find_device("system", coaudio::device_kind::any, "JACK").index == jack);
    CHECK(coaudio::find_device("SYST", coaudio::device_kind::input, "jack audio").index == jack);
    std::error_code ec;
    coaudio::find_device("no such device", coaudio::device_kind::any, {}, ec);
    CHECK(ec == coaudio::errc::device_not_found);
    CHECK_THROWS_AS(coaudio::find_device("system", coaudio::device_kind::any, "no such host api"),
                    std::system_error);
}

TEST_CASE("a stream reports the block size and latency that the host uses, not only what was asked")
{
    coaudio::library lib;
    const test::jack_patchbay bay;
    asio::io_context io;
    coaudio::input_stream in(
        io, {.device = test::jack_device_index(), .channels = 1, .sample_rate = rate});
    // Before any callback: the request, which left the block to the host.
    CHECK(in.params().frames_per_block == 0);
    in.start();
    test::run(io, [&]() -> asio::awaitable<void> {
        std::vector<float> buf(2 * bay.buffer_size());
        co_await in.async_read_frames(std::span(buf), use_awaitable);
    }());
    const auto p = in.params();
    CHECK(p.frames_per_block == bay.buffer_size());
    // PortAudio's JACK host grants 0 here (it leaves out the period in
    // flight); the callbacks' timestamps carry the capture port's latency.
    const double capture = double(bay.port_latency("system:capture_1", true)) / rate;
    REQUIRE(capture > 0.0);
    CHECK(std::abs(p.latency - capture) < 1e-6);
    CHECK(in.latency() == p.latency);
}

TEST_CASE("a stream opens a device given by name, with find_device's rules")
{
    coaudio::library lib;
    asio::io_context io;
    const coaudio::device_info jack = coaudio::device(test::jack_device_index());
    coaudio::input_stream in(io, {.device = jack.name, .channels = 1});
    CHECK(in.params().device == jack.index);
    in.close();
    // A substring, ignoring case, names the device as well where it is the only match.
    const auto by_part =
        coaudio::match_devices(coaudio::devices(), "SYSTE", coaudio::device_kind::input);
    std::error_code ec;
    coaudio::diagnostics diag;
    in.open({.device = "SYSTE", .channels = 1}, ec, diag);
    if (by_part.size() == 1) {
        CHECK_FALSE(ec);
        CHECK(in.params().device == by_part.front().index);
    } else {
        CHECK(ec == coaudio::errc::ambiguous_device);
    }
    in.open({.device = "no such device", .channels = 1}, ec, diag);
    CHECK(ec == coaudio::errc::device_not_found);
    CHECK(diag.message() == "device 'no such device' not found among the input devices");
    CHECK_FALSE(in.is_open());
    // The empty name is in every name: it selects the one input device, or is ambiguous.
    std::size_t inputs = 0;
    for (const auto& d : coaudio::devices())
        inputs += d.max_input_channels > 0 ? 1 : 0;
    in.open({.device = "", .channels = 1}, ec, diag);
    if (inputs == 1) {
        CHECK_FALSE(ec);
    } else {
        CHECK(ec == coaudio::errc::ambiguous_device);
        CHECK(diag.message().rfind(
                  "device '' matches " + std::to_string(inputs) + " input devices: [", 0) == 0);
    }
}

TEST_CASE("a refused setting is named with its value and the limit it broke")
{
    coaudio::library lib;
    asio::io_context io;
    const coaudio::device_info jack = coaudio::device(test::jack_device_index());
    const std::string name = "'" + jack.name + "'";
    const coaudio::stream_config good{.device = jack.index, .channels = 1, .sample_rate = rate};
    auto with = [&](auto change) {
        auto c = good;
        change(c);
        return c;
    };
    const std::pair<coaudio::stream_config, std::string> cases[] = {
        {with([](auto& c) { c.channels = 1000; }),
         "invalid channel count 1000: device " + name + " has " +
             std::to_string(jack.max_input_channels) + " input channels"},
        {with([](auto& c) { c.sample_rate = 22050; }),
         "sample rate 22050 Hz not supported by device " + name + " (its default is 48000 Hz)"},
        {with([](auto& c) { c.sample_rate = -1; }),
         "invalid sample rate -1: must be a positive number of frames per second"},
        {with([](auto& c) { c.latency = coaudio::latency_hint::seconds(-0.5); }),
         "invalid latency -0.5 s: must be a non-negative number of seconds"},
        {with([](auto& c) { c.device = 4242; }), "no device 4242: PortAudio lists " +
                                                     std::to_string(coaudio::devices().size()) +
                                                     " devices"},
    };
    for (const auto& [cfg, words] : cases) {
        INFO(words);
        std::error_code ec;
        coaudio::diagnostics diag;
        coaudio::check_input_settings(cfg, ec, diag);
        CHECK(ec);
        CHECK(diag.message() == words);
        coaudio::input_stream in(io);
        in.open(cfg, ec, diag);
        CHECK(diag.message() == words);
        // The throwing forms say the same, and keep the code.
        try {
            in.open(cfg);
            FAIL("open succeeded");
        } catch (const std::system_error& e) {
            CHECK(std::string(e.what()) == "coaudio: open: " + words);
            CHECK(e.code() == ec);
        }
    }
}

TEST_CASE(
    "settings are checked without opening, and opening fails the same way leaving nothing behind")
{
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    const auto ports_before = bay.portaudio_ports(0);
    const coaudio::stream_config good{
        .device = test::jack_device_index(), .channels = 2, .sample_rate = rate};

    std::error_code ec;
    coaudio::check_input_settings(good, ec);
    CHECK_FALSE(ec);
    coaudio::check_output_settings(good, ec);
    CHECK_FALSE(ec);
    coaudio::check_duplex_settings({good, good}, ec);
    CHECK_FALSE(ec);

    struct bad_case {
        const char* what;
        coaudio::stream_config cfg;
        coaudio::errc expected;
    };
    auto with = [&](auto change) {
        auto c = good;
        change(c);
        return c;
    };
    const bad_case cases[] = {
        {"unknown device", with([](auto& c) { c.device = 4242; }), coaudio::errc::device_not_found},
        {"too many channels", with([](auto& c) { c.channels = 3; }),
         coaudio::errc::invalid_channels},
        {"no channels", with([](auto& c) { c.channels = 0; }), coaudio::errc::invalid_channels},
        {"unsupported rate", with([](auto& c) { c.sample_rate = 22050; }),
         coaudio::errc::invalid_sample_rate},
        {"rate not a number", with([](auto& c) { c.sample_rate = std::nan(""); }),
         coaudio::errc::invalid_sample_rate},
        {"unknown format",
         with([](auto& c) { c.format = static_cast<coaudio::sample_format>(42); }),
         coaudio::errc::invalid_format},
        {"negative latency",
         with([](auto& c) { c.latency = coaudio::latency_hint::seconds(-0.01); }),
         coaudio::errc::invalid_latency},
        {"latency not a number",
         with([](auto& c) { c.latency = coaudio::latency_hint::seconds(std::nan("")); }),
         coaudio::errc::invalid_latency},
    };
    for (const auto& bad : cases) {
        INFO(bad.what);
        coaudio::check_input_settings(bad.cfg, ec);
        CHECK(ec == bad.expected);
        coaudio::check_output_settings(bad.cfg, ec);
        CHECK(ec == bad.expected);
        CHECK_THROWS_AS(coaudio::check_input_settings(bad.cfg), std::system_error);
        coaudio::input_stream in(io);
        in.open(bad.cfg, ec);
        CHECK(ec == bad.expected);
        CHECK_FALSE(in.is_open());
        coaudio::output_stream out(io);
        out.open(bad.cfg, ec);
        CHECK(ec == bad.expected);
        CHECK_FALSE(out.is_open());
        CHECK(bay.portaudio_ports(0) == ports_before); // no half-open stream left ports behind
    }
    // Each error reads clearly.
    CHECK(make_error_code(coaudio::errc::invalid_latency).message().find("latency") !=
          std::string::npos);
    CHECK(make_error_code(coaudio::errc::invalid_channels) == std::errc::invalid_argument);
}

TEST_CASE("the stream reports what the host granted")
{
    coaudio::library lib;
    asio::io_context io;
    coaudio::input_stream in(io, {.device = test::jack_device_index(),
                                  .channels = 2,
                                  .sample_rate = 0,
                                  .frames_per_block = 0,
                                  .latency = coaudio::latency_hint::low()});
    CHECK(in.sample_rate() == rate); // 0 asked for the device's default
    CHECK(in.channels() == 2);
    CHECK(in.latency() >= 0.0);
    CHECK(in.latency() < 1.0);
    coaudio::output_stream out(
        io, {.device = test::jack_device_index(), .latency = coaudio::latency_hint::seconds(0.05)});
    CHECK(out.latency() > 0.0);
}

namespace {

// Plays a 0.5-amplitude 1 kHz sine in format T through the loopback and
// returns the RMS of what came back, relative to full scale.
template <class T, class Encode, class Decode>
double round_trip(coaudio::sample_format format, int channels, Encode encode, Decode decode)
{
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    const coaudio::stream_config cfg{.device = test::jack_device_index(),
                                     .channels = channels,
                                     .format = format,
                                     .sample_rate = rate,
                                     .frames_per_block = block};
    coaudio::output_stream out(io, cfg);
    coaudio::input_stream in(io, cfg);
    in.start();
    out.start();
    bay.loop_new_ports();
    bay.isolate_new_inputs();
    double level = 0;
    test::run(io, [&]() -> asio::awaitable<void> {
        const auto f = test::sine(static_cast<std::size_t>(rate), 1000, 0.5, rate);
        std::vector<T> tone(f.size() * std::size_t(channels));
        for (std::size_t i = 0; i < tone.size(); ++i)
            tone[i] = encode(f[i / std::size_t(channels)]);
        test::play_in_background(out, std::move(tone));
        std::vector<T> buf(block * std::size_t(channels));
        double sum = 0;
        std::size_t count = 0, loud = 0;
        while (count < 12000) {
            const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
            double p = 0;
            for (std::size_t i = 0; i < n * std::size_t(channels); ++i)
                p = std::max(p, std::abs(decode(buf[i])));
            if (loud < 4) {
                loud = p > 0.2 ? loud + 1 : 0;
                continue;
            }
            for (std::size_t i = 0; i < n * std::size_t(channels); ++i)
                sum += decode(buf[i]) * decode(buf[i]);
            count += n * std::size_t(channels);
        }
        level = std::sqrt(sum / double(count));
    }());
    return level;
}

} // namespace

TEST_CASE("every sample format carries a tone through the loopback", "[realtime]")
{
    using coaudio::sample_format;
    const double expected = 0.5 / std::sqrt(2.0);
    SECTION("int24, packed")
    {
        const double level = round_trip<coaudio::int24_t>(
            sample_format::int24, 1,
            [](float x) { return coaudio::int24_t(std::int32_t(x * 8388607.0f)); },
            [](coaudio::int24_t s) { return s.value() / 8388607.0; });
        INFO(level);
        CHECK(std::abs(level - expected) < 0.01);
    }
    SECTION("int8")
    {
        const double level = round_trip<std::int8_t>(
            sample_format::int8, 1, [](float x) { return std::int8_t(std::lround(x * 127.0f)); },
            [](std::int8_t s) { return s / 127.0; });
        INFO(level);
        CHECK(std::abs(level - expected) < 0.015); // 8-bit quantisation
    }
    SECTION("uint8, offset binary")
    {
        const double level = round_trip<std::uint8_t>(
            sample_format::uint8, 1,
            [](float x) { return std::uint8_t(128 + std::lround(x * 127.0f)); },
            [](std::uint8_t s) { return (int(s) - 128) / 127.0; });
        INFO(level);
        CHECK(std::abs(level - expected) < 0.015);
    }
    SECTION("float32, stereo")
    {
        const double level = round_trip<float>(
            sample_format::float32, 2, [](float x) { return x; },
            [](float s) { return double(s); });
        INFO(level);
        CHECK(std::abs(level - expected) < 0.01);
    }
}

TEST_CASE("non-interleaved reads and writes keep channels apart", "[realtime]")
{
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    bay.mark();
    const coaudio::stream_config cfg{.device = test::jack_device_index(),
                                     .channels = 2,
                                     .sample_rate = rate,
                                     .frames_per_block = block};
    coaudio::output_stream out(io, cfg);
    coaudio::input_stream in(io, cfg);
    in.start();
    out.start();
    bay.loop_new_ports(); // out_0 -> in_0, out_1 -> in_1
    bay.isolate_new_inputs();
    test::run(io, [&]() -> asio::awaitable<void> {
        // Left: 0.5 at 1 kHz. Right: 0.25 at 500 Hz.
        test::play_planar_in_background(
            out, std::vector{test::sine(static_cast<std::size_t>(rate), 1000, 0.5, rate),
                             test::sine(static_cast<std::size_t>(rate), 500, 0.25, rate)});
        std::vector<float> l(block), r(block), got_l, got_r;
        const std::span<float> capture[] = {l, r};
        while (got_l.size() < 12000) {
            const std::size_t n = co_await in.async_read_frames(
                std::span<const std::span<float>>(capture), use_awaitable);
            if (coaudio::peak(std::span<const float>(l.data(), n)) < 0.2f && got_l.empty())
                continue;
            got_l.insert(got_l.end(), l.begin(), l.begin() + n);
            got_r.insert(got_r.end(), r.begin(), r.begin() + n);
        }
        const std::span<const float> steady_l(got_l.data() + block, got_l.size() - block);
        const std::span<const float> steady_r(got_r.data() + block, got_r.size() - block);
        CHECK(std::abs(coaudio::rms(steady_l) - 0.5 / std::sqrt(2.0)) < 0.01);
        CHECK(std::abs(coaudio::rms(steady_r) - 0.25 / std::sqrt(2.0)) < 0.01);
        CHECK(std::abs(test::zero_crossing_frequency(steady_l, rate) - 1000.0) < 5.0);
        CHECK(std::abs(test::zero_crossing_frequency(steady_r, rate) - 500.0) < 5.0);

        // Channel count and equal lengths are checked.
        std::vector<float> shorter(block / 2);
        const std::span<float> uneven[] = {l, shorter};
        auto [ec, n] = co_await in.async_read_frames(std::span<const std::span<float>>(uneven),
                                                     coaudio::as_tuple(use_awaitable));
        CHECK(ec == coaudio::errc::not_whole_frames);
        CHECK(n == 0);
        const std::span<float> one[] = {l};
        std::tie(ec, n) = co_await in.async_read_frames(std::span<const std::span<float>>(one),
                                                        coaudio::as_tuple(use_awaitable));
        CHECK(ec == coaudio::errc::invalid_channels);
    }());
}
