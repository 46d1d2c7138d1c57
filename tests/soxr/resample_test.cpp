// coaudio/resample.hpp with no audio device: a 1 kHz sine keeps its frequency
// and level through 48k -> 16k -> 48k and 44.1k -> 48k, whole and in pieces;
// timing is kept; bad arguments give clear errors.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/resample.hpp>

#include <coaudio/level.hpp>

#include "support/catch.hpp"
#include "support/tone.hpp"

#include <cmath>
#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace {

/// The middle of a signal: the converter's edges (its filter starting and
/// stopping) left out.
std::span<const float> middle(const std::vector<float>& x)
{
    return std::span(x).subspan(x.size() / 10, x.size() * 8 / 10);
}

void check_tone(const std::vector<float>& out, double rate, double freq, double level)
{
    INFO("rate " << rate);
    CHECK(std::abs(test::interpolated_frequency(middle(out), rate) - freq) < 1.0);
    CHECK(std::abs(20 * std::log10(coaudio::rms(middle(out)) / level)) < 0.1);
}

/// Converts `in` through one resampler in blocks of `block` input frames,
/// then flushes it, as the streaming operations do.
std::vector<float> in_blocks(const std::vector<float>& in, double from, double to,
                             std::size_t block)
{
    coaudio::resampler r(from, to, 1);
    std::vector<float> out;
    std::vector<float> buf(block * 4 + 64);
    std::span<const float> rest(in);
    while (!rest.empty()) {
        const auto piece = rest.first(std::min(block, rest.size()));
        std::span<const float> left = piece;
        while (!left.empty()) {
            std::size_t used = 0;
            const std::size_t n = r.process(left, buf, used);
            out.insert(out.end(), buf.begin(), buf.begin() + std::ptrdiff_t(n));
            left = left.subspan(used);
        }
        rest = rest.subspan(piece.size());
    }
    for (std::size_t n; (n = r.flush(buf)) > 0;)
        out.insert(out.end(), buf.begin(), buf.begin() + std::ptrdiff_t(n));
    return out;
}

} // namespace

TEST_CASE("a 1 kHz sine keeps its frequency and level through 48k -> 16k -> 48k")
{
    const double amp = 0.5;
    const auto in = test::sine(48000, 1000, amp, 48000);
    const double level = amp / std::sqrt(2.0);

    const auto down = coaudio::resample(in, 48000, 16000, 1);
    CHECK(down.size() == 16000);
    check_tone(down, 16000, 1000, level);

    const auto up = coaudio::resample(down, 16000, 48000, 1);
    CHECK(up.size() == 48000);
    check_tone(up, 48000, 1000, level);
}

TEST_CASE("a 1 kHz sine keeps its frequency and level through 44.1k -> 48k")
{
    const double amp = 0.5;
    const auto in = test::sine(44100, 1000, amp, 44100);
    const auto out = coaudio::resample(in, 44100, 48000, 1);
    CHECK(out.size() == 48000);
    check_tone(out, 48000, 1000, amp / std::sqrt(2.0));
}

TEST_CASE("in blocks as in one piece: the same frames")
{
    const auto in = test::sine(44100, 1000, 0.5, 44100);
    const auto whole = coaudio::resample(in, 44100, 48000, 1);
    for (std::size_t block :
         {std::size_t{1}, std::size_t{37}, std::size_t{256}, std::size_t{4096}}) {
        INFO("block " << block);
        const auto pieces = in_blocks(in, 44100, 48000, block);
        REQUIRE(pieces.size() == whole.size());
        double worst = 0;
        for (std::size_t i = 0; i < whole.size(); ++i)
            worst = std::max(worst, double(std::abs(pieces[i] - whole[i])));
        CHECK(worst < 1e-5);
    }
}

TEST_CASE("timing: output frame k stands for input frame k * in_rate / out_rate")
{
    // A click at input frame 4800 (0.1 s) peaks at output frame 1600 at 16 kHz.
    std::vector<float> in(48000, 0.0f);
    in[4800] = 1.0f;
    const auto out = coaudio::resample(in, 48000, 16000, 1);
    std::size_t peak = 0;
    for (std::size_t i = 0; i < out.size(); ++i)
        if (std::abs(out[i]) > std::abs(out[peak])) peak = i;
    CHECK(peak == 1600);
}

TEST_CASE("channels stay apart")
{
    // Left 1 kHz, right 3 kHz, interleaved.
    const auto l = test::sine(48000, 1000, 0.5, 48000);
    const auto r = test::sine(48000, 3000, 0.25, 48000);
    std::vector<float> in(96000);
    for (std::size_t i = 0; i < 48000; ++i) {
        in[2 * i] = l[i];
        in[2 * i + 1] = r[i];
    }
    const auto out = coaudio::resample(in, 48000, 16000, 2);
    REQUIRE(out.size() == 32000);
    std::vector<float> ol(16000), orr(16000);
    for (std::size_t i = 0; i < 16000; ++i) {
        ol[i] = out[2 * i];
        orr[i] = out[2 * i + 1];
    }
    check_tone(ol, 16000, 1000, 0.5 / std::sqrt(2.0));
    check_tone(orr, 16000, 3000, 0.25 / std::sqrt(2.0));
}

TEST_CASE("bad arguments give clear errors")
{
    std::error_code ec;
    coaudio::resampler r;
    CHECK_FALSE(r.is_open());
    std::vector<float> buf(8);
    std::size_t used = 0;
    r.process(buf, buf, used, ec);
    CHECK(ec == coaudio::errc::not_open);

    r.open(0, 48000, 1, coaudio::resample_quality::high, ec);
    CHECK(ec == coaudio::errc::invalid_sample_rate);
    r.open(48000, NAN, 1, coaudio::resample_quality::high, ec);
    CHECK(ec == coaudio::errc::invalid_sample_rate);
    r.open(48000, 16000, 0, coaudio::resample_quality::high, ec);
    CHECK(ec == coaudio::errc::invalid_channels);
    CHECK_THROWS_AS(coaudio::resampler(48000, 16000, -1), std::system_error);

    r.open(48000, 16000, 3, coaudio::resample_quality::high, ec);
    REQUIRE_FALSE(ec);
    r.process(std::span(buf).first(4), std::span(buf).first(6), used, ec);
    CHECK(ec == coaudio::errc::not_whole_frames);

    // An empty input is not the end of the signal: nothing comes out.
    std::vector<float> tone = test::sine(4800 * 3, 1000, 0.5, 48000);
    std::vector<float> out(4800 * 3);
    REQUIRE(r.process(tone, out, used, ec) < 1600);
    CHECK(r.process(std::span<const float>(), out, used, ec) == 0);
    CHECK_FALSE(ec);

    // Moved from, the old one is empty and the new one works.
    coaudio::resampler moved = std::move(r);
    CHECK_FALSE(r.is_open()); // NOLINT(bugprone-use-after-move): a moved-from resampler is empty
    CHECK(moved.is_open());
    CHECK(moved.channels() == 3);
}
