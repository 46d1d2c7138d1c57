// coaudio tests: the level helpers (RMS, peak, dBFS, the per-channel
// accumulator and the peak hold) against signals whose levels are known.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/level.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <vector>

namespace {

constexpr double minus_inf = -std::numeric_limits<double>::infinity();

bool near(double a, double b, double tolerance)
{
    return std::fabs(a - b) <= tolerance;
}

// `frames` frames of a sine of `amplitude` at `freq` Hz sampled at `rate`.
std::vector<float> sine(double amplitude, double freq, double rate, std::size_t frames,
                        double phase = 0.0)
{
    std::vector<float> out(frames);
    for (std::size_t i = 0; i < frames; ++i)
        out[i] = static_cast<float>(
            amplitude * std::sin(2 * std::numbers::pi * freq * double(i) / rate + phase));
    return out;
}

// Interleaves equal-length channels.
std::vector<float> interleave(const std::vector<std::vector<float>>& channels)
{
    std::vector<float> out;
    for (std::size_t i = 0; i < channels.front().size(); ++i)
        for (const auto& ch : channels)
            out.push_back(ch[i]);
    return out;
}

using secs = std::chrono::duration<double>;

} // namespace

TEST_CASE("dBFS conversions")
{
    CHECK(coaudio::to_dbfs(1.0) == 0.0);
    CHECK(near(coaudio::to_dbfs(0.5), -6.0206, 1e-4));
    CHECK(near(coaudio::to_dbfs(0.1), -20.0, 1e-12));
    CHECK(coaudio::to_dbfs(0.0) == minus_inf);
    CHECK(coaudio::to_dbfs(-1.0) == minus_inf);
    CHECK(coaudio::to_dbfs(std::numeric_limits<double>::quiet_NaN()) == minus_inf);

    CHECK(coaudio::from_dbfs(0.0) == 1.0);
    CHECK(coaudio::from_dbfs(minus_inf) == 0.0);
    for (double db : {-96.0, -20.0, -6.0, -0.1, 3.0})
        CHECK(near(coaudio::to_dbfs(coaudio::from_dbfs(db)), db, 1e-9));
}

TEST_CASE("RMS and peak of known signals")
{
    SECTION("empty and silent blocks")
    {
        std::vector<float> none;
        CHECK(coaudio::rms(none) == 0.0);
        CHECK(coaudio::peak(none) == 0.0);
        CHECK(coaudio::rms_dbfs(none) == minus_inf);
        std::vector<float> silence(512, 0.0f);
        CHECK(coaudio::rms_dbfs(silence) == minus_inf);
        CHECK(coaudio::peak_dbfs(silence) == minus_inf);
    }
    SECTION("a 0.5 sine: RMS -9.03 dBFS, peak -6.02 dBFS")
    {
        // 1 kHz at 48 kHz: 48 samples a period, one of them on the crest.
        auto s = sine(0.5, 1000, 48000, 4800);
        CHECK(near(coaudio::rms(s), 0.5 / std::numbers::sqrt2, 1e-6));
        CHECK(near(coaudio::rms_dbfs(s), -9.0309, 1e-3));
        CHECK(near(coaudio::peak(s), 0.5, 1e-7));
        CHECK(near(coaudio::peak_dbfs(s), -6.0206, 1e-3));
    }
    SECTION("peak takes the magnitude of negative samples")
    {
        std::vector<float> s{0.1f, -0.75f, 0.5f};
        CHECK(coaudio::peak(s) == 0.75);
    }
    SECTION("a full-scale square wave is 0 dBFS both ways")
    {
        std::vector<float> s(64);
        for (std::size_t i = 0; i < s.size(); ++i)
            s[i] = (i / 8) % 2 ? -1.0f : 1.0f;
        CHECK(coaudio::rms_dbfs(s) == 0.0);
        CHECK(coaudio::peak_dbfs(s) == 0.0);
    }
    SECTION("a DC level: RMS equals the magnitude")
    {
        std::vector<float> s(100, -0.25f);
        CHECK(near(coaudio::rms(s), 0.25, 1e-12));
    }
}

TEST_CASE("the clip threshold is -0.1 dBFS, inclusive")
{
    CHECK(coaudio::clip_dbfs == -0.1);
    CHECK(coaudio::is_clipping(-0.1));
    CHECK(coaudio::is_clipping(0.0));
    CHECK(coaudio::is_clipping(2.5)); // float streams can go past full scale
    CHECK_FALSE(coaudio::is_clipping(-0.11));
    CHECK_FALSE(coaudio::is_clipping(minus_inf));
    std::vector<float> full{0.2f, -1.0f}, below{0.98f, -0.5f};
    CHECK(coaudio::is_clipping(coaudio::peak_dbfs(full)));
    CHECK_FALSE(coaudio::is_clipping(coaudio::peak_dbfs(below))); // 0.98 is -0.18 dBFS
}

TEST_CASE("level_accumulator keeps channels apart")
{
    // Channel 0: 0.5 sine; channel 1: 0.1 sine in another phase; channel 2: silence.
    const std::size_t frames = 4800;
    auto a = sine(0.5, 1000, 48000, frames);
    auto b = sine(0.1, 250, 48000, frames, 1.0);
    std::vector<float> c(frames, 0.0f);
    const auto frames3 = interleave({a, b, c});

    coaudio::level_accumulator acc(3);
    CHECK(acc.channels() == 3);
    CHECK(acc.frames() == 0);
    CHECK(acc.rms(0) == 0.0);
    CHECK(acc.rms_dbfs(0) == minus_inf);

    acc.add(frames3);
    CHECK(acc.frames() == frames);
    CHECK(near(acc.rms(0), coaudio::rms(a), 1e-9));
    CHECK(near(acc.rms(1), coaudio::rms(b), 1e-9));
    CHECK(acc.rms(2) == 0.0);
    CHECK(acc.peak(0) == coaudio::peak(a));
    CHECK(acc.peak(1) == coaudio::peak(b));
    CHECK(near(acc.rms_dbfs(0), -9.0309, 1e-3));
    CHECK(near(acc.peak_dbfs(0), -6.0206, 1e-3));
    CHECK(near(acc.rms_dbfs(1), -23.0103, 1e-2));
    CHECK(acc.peak_dbfs(2) == minus_inf);

    SECTION("any split into blocks gives the same levels as one block")
    {
        coaudio::level_accumulator pieces(3);
        std::span<const float> rest(frames3);
        for (std::size_t block : {1u, 7u, 256u, 1000u, 3u}) {
            pieces.add(rest.first(block * 3));
            rest = rest.subspan(block * 3);
        }
        pieces.add(rest);
        CHECK(pieces.frames() == frames);
        for (int ch = 0; ch < 3; ++ch) {
            CHECK(near(pieces.rms(ch), acc.rms(ch), 1e-12));
            CHECK(pieces.peak(ch) == acc.peak(ch));
        }
    }
    SECTION("reset forgets, and the next interval stands alone")
    {
        acc.reset();
        CHECK(acc.frames() == 0);
        CHECK(acc.peak(0) == 0.0);
        std::vector<float> loud{1.0f, 0.0f, 0.0f, -1.0f, 0.0f, 0.0f};
        acc.add(loud);
        CHECK(acc.frames() == 2);
        CHECK(acc.rms_dbfs(0) == 0.0);
        CHECK(acc.peak_dbfs(1) == minus_inf);
    }
    SECTION("a trailing partial frame is ignored")
    {
        acc.reset();
        std::vector<float> partial{0.5f, 0.5f, 0.5f, 0.9f, 0.9f}; // one frame and two stray samples
        acc.add(partial);
        CHECK(acc.frames() == 1);
        CHECK(acc.peak(0) == 0.5);
        CHECK(acc.peak(1) == 0.5);
    }
    SECTION("channels out of range read as silence")
    {
        CHECK(acc.rms(-1) == 0.0);
        CHECK(acc.rms(3) == 0.0);
        CHECK(acc.peak(3) == 0.0);
        CHECK(acc.peak_dbfs(7) == minus_inf);
    }
}

TEST_CASE("level_accumulator needs at least one channel")
{
    CHECK_THROWS_AS(coaudio::level_accumulator(0), std::invalid_argument);
    CHECK_THROWS_AS(coaudio::level_accumulator(-2), std::invalid_argument);
    CHECK(coaudio::level_accumulator(1).channels() == 1);
}

TEST_CASE("peak_hold holds, then decays, then catches up")
{
    // Hold 1 s, then fall 10 dB per second.
    coaudio::peak_hold hold(secs(1.0), 10.0);
    CHECK(hold.value() == minus_inf);

    CHECK(hold.update(-6.0, secs(0.0)) == -6.0);

    SECTION("a lower peak during the hold time changes nothing")
    {
        CHECK(hold.update(-20.0, secs(0.5)) == -6.0);
        CHECK(hold.update(-20.0, secs(0.5)) == -6.0);            // exactly 1 s: still held
        CHECK(near(hold.update(-20.0, secs(0.5)), -11.0, 1e-9)); // 0.5 s of decay
        CHECK(near(hold.update(-20.0, secs(0.5)), -16.0, 1e-9));
        CHECK(near(hold.update(-20.0, secs(0.5)), -20.0, 1e-9)); // caught by the current peak
        CHECK(hold.age() == 0.0);
        CHECK(hold.update(-30.0, secs(0.9)) == -20.0); // and held again from there
    }
    SECTION("a step that straddles the end of the hold decays only past it")
    {
        CHECK(near(hold.update(minus_inf, secs(1.25)), -8.5, 1e-9));
    }
    SECTION("a higher peak is taken at once and restarts the hold")
    {
        hold.update(-20.0, secs(0.9));
        CHECK(hold.update(-3.0, secs(0.05)) == -3.0);
        CHECK(hold.age() == 0.0);
        CHECK(hold.update(-40.0, secs(0.99)) == -3.0);
    }
    SECTION("a steady signal holds steady")
    {
        for (int i = 0; i < 300; ++i)
            CHECK(hold.update(-6.0, secs(1.0 / 30)) == -6.0);
    }
    SECTION("silence decays to -infinity past the floor")
    {
        double v = 0;
        for (int i = 0; i < 200 && v != minus_inf; ++i)
            v = hold.update(minus_inf, secs(0.1));
        CHECK(v == minus_inf);
        CHECK(hold.update(-50.0, secs(0.1)) == -50.0);
    }
    SECTION("negative time counts as none; NaN peaks are ignored")
    {
        CHECK(hold.update(-20.0, secs(-5.0)) == -6.0);
        CHECK(hold.age() == 0.0);
        CHECK(hold.update(std::numeric_limits<double>::quiet_NaN(), secs(0.1)) == -6.0);
    }
    SECTION("reset returns to silence")
    {
        hold.reset();
        CHECK(hold.value() == minus_inf);
        CHECK(hold.update(-30.0, secs(0.1)) == -30.0);
    }
}

TEST_CASE("peak_hold defaults: 1.5 s hold, 15 dB/s")
{
    coaudio::peak_hold hold;
    hold.update(0.0, secs(0));
    CHECK(hold.update(minus_inf, secs(1.5)) == 0.0);
    CHECK(near(hold.update(minus_inf, secs(1.0)), -15.0, 1e-9));
}
