// The resampling source and sink the one-shot and file operations use
// (detail/resampling.hpp), with no audio device: lost frames become silence of
// the converted length, so what follows keeps time; a source plays out whole.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/detail/resampling.hpp>

#include "support/catch.hpp"
#include "support/tone.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

using coaudio::detail::resampling_sink;
using coaudio::detail::resampling_source;
using coaudio::detail::span_sink;
using coaudio::detail::span_source;

namespace {

/// Feeds `in` (48 kHz mono) into `sink` as the read loop does: asks for
/// `buffer(256)`, fills it, commits it; `lost` frames were lost before the
/// read that starts at input frame `gap_at`.
template <class Sink>
void record(Sink& sink, std::span<const float> in, std::size_t gap_at, std::uint64_t lost)
{
    std::size_t at = 0;
    bool gap_reported = false;
    while (at < in.size()) {
        auto buf = sink.buffer(256);
        std::size_t n = std::min(buf.size(), in.size() - at);
        if (at < gap_at) n = std::min(n, gap_at - at); // a read never spans a gap
        std::uint64_t lost_now = 0;
        if (at == gap_at && !gap_reported) {
            lost_now = lost;
            gap_reported = true;
        }
        std::copy_n(in.data() + at, n, buf.data());
        REQUIRE_FALSE(sink.commit(n, lost_now));
        at += n;
    }
}

} // namespace

TEST_CASE("frames lost at 48 kHz become silence of a third the length at 16 kHz; time is kept")
{
    // A 1 kHz tone at 48 kHz; 4812 frames (100.25 periods) after 0.5 s are
    // lost: the device delivered frames 0..24000 and then, after the gap,
    // frames from 28812 on. Dropping the gap instead of keeping time would
    // put the tone after it a quarter period off.
    const auto tone = test::sine(96000, 1000, 0.5, 48000);
    std::vector<float> delivered(tone.begin(), tone.begin() + 24000);
    delivered.insert(delivered.end(), tone.begin() + 28812, tone.end());

    std::vector<float> out(16000);
    span_sink<float> inner{std::span<float>(out), 1};
    std::error_code ec;
    resampling_sink<span_sink<float>> sink(inner, 48000, 16000, 1, ec);
    REQUIRE_FALSE(ec);
    record(sink, delivered, 24000, 4812);
    REQUIRE(sink.frames() == 16000);

    // 0.5 s to 0.60025 s at 16 kHz (frames 8000..9604) is silence, its edges
    // softened by the filter; the tone before and after is in phase with the
    // tone at 16 kHz, as if nothing had been lost.
    const auto ideal = test::sine(16000, 1000, 0.5, 16000);
    double silence = 0, before = 0, after = 0;
    for (std::size_t i = 8050; i < 9550; ++i)
        silence = std::max(silence, double(std::abs(out[i])));
    for (std::size_t i = 1000; i < 7950; ++i)
        before = std::max(before, double(std::abs(out[i] - ideal[i])));
    for (std::size_t i = 9700; i < 15000; ++i)
        after = std::max(after, double(std::abs(out[i] - ideal[i])));
    INFO("silence peak " << silence << ", error before " << before << ", after " << after);
    CHECK(silence < 1e-3);
    CHECK(before < 1e-3);
    CHECK(after < 1e-3);
}

TEST_CASE("a resampling source plays its whole input, converted")
{
    const auto tone = test::sine(44100, 1000, 0.5, 44100);
    span_source<float> inner{std::span<const float>(tone), 1};
    std::error_code ec;
    resampling_source<span_source<float>> source(inner, 44100, 48000, 1, ec);
    REQUIRE_FALSE(ec);
    std::vector<float> out;
    for (;;) {
        const auto chunk = source.next(1000, ec);
        REQUIRE_FALSE(ec);
        if (chunk.empty()) break;
        CHECK(chunk.size() <= 1000);
        out.insert(out.end(), chunk.begin(), chunk.end());
    }
    CHECK(out.size() == 48000);
    CHECK(source.source_frames(out.size()) == 44100);
    const auto middle = std::span<const float>(out).subspan(4800, 38400);
    CHECK(std::abs(test::interpolated_frequency(middle, 48000) - 1000.0) < 1.0);
}
