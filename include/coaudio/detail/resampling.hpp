// coaudio: a source and a sink (detail/oneshot_ops.hpp) that convert the sample
// rate on the way, for the one-shot and file operations. Included only with
// COAUDIO_HAS_SOXR. They run in the operations' coroutines, on the io thread.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_RESAMPLING_HPP
#define COAUDIO_DETAIL_RESAMPLING_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/oneshot_ops.hpp>
#include <coaudio/resample.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// A converter and a chunk of interleaved frames to convert into or from.
class converter_chunk {
protected:
    converter_chunk(double from, double to, int channels, std::error_code& ec)
        : channels_(static_cast<std::size_t>(channels)), chunk_(chunk_frames * channels_)
    {
        r_.open(from, to, channels, resample_quality::high, ec);
    }

    std::size_t channels_;
    std::vector<float> chunk_;
    resampler r_;
};

/// Hands out the frames of `Source` (float, at `from` Hz) converted to `to`
/// Hz, a chunk at a time; at the source's end it flushes the converter, so
/// the last frames are played too.
template <class Source>
class resampling_source : converter_chunk {
public:
    resampling_source(Source& inner, double from, double to, int channels, std::error_code& ec)
        : converter_chunk(from, to, channels, ec), inner_(inner)
    {
    }

    std::span<const float> next(std::size_t max_frames, std::error_code& ec)
    {
        const auto out = std::span(chunk_).first(std::min(max_frames, chunk_frames) * channels_);
        for (;;) {
            std::size_t n = 0;
            if (pending_.empty() && !ended_) {
                pending_ = inner_.next(chunk_frames, ec);
                if (ec) return {};
                ended_ = pending_.empty();
                taken_ += pending_.size() / channels_;
            }
            if (!ended_) {
                std::size_t used = 0;
                n = r_.process(pending_, out, used, ec);
                pending_ = pending_.subspan(used * channels_);
            } else {
                n = r_.flush(out, ec);
                if (n == 0) return {}; // all played
            }
            if (ec) return {};
            if (n > 0) return out.first(n * channels_);
        }
    }

    /// The source frames that `played` converted frames stand for.
    std::uint64_t source_frames(std::uint64_t played) const noexcept
    {
        const auto n = static_cast<std::uint64_t>(std::llround(double(played) / r_.ratio()));
        return std::min(n, taken_);
    }

private:
    Source& inner_;
    std::span<const float> pending_;
    std::uint64_t taken_ = 0;
    bool ended_ = false;
};

/// Takes frames read at `from` Hz, converts them to `to` Hz and commits them
/// to `Sink` (float). Frames lost before a read go through the converter as
/// silence, so a gap of n device frames becomes about n * to / from frames of
/// silence (softened at its edges by the filter) and the recording keeps time.
/// `frames()` counts the sink's frames; reads ask for enough device frames to
/// fill what is left, the filter's delay included, and what overshoots the
/// sink is dropped by it.
template <class Sink>
class resampling_sink : converter_chunk {
public:
    resampling_sink(Sink& inner, double from, double to, int channels, std::error_code& ec)
        : converter_chunk(from, to, channels, ec), inner_(inner)
    {
    }

    std::uint64_t frames() const noexcept { return inner_.frames(); }

    std::span<float> buffer(std::size_t max_frames) noexcept
    {
        const double want = (double(max_frames) + r_.delay()) / r_.ratio();
        const auto n =
            std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(want)), 1, chunk_frames);
        return std::span(chunk_).first(n * channels_);
    }

    std::error_code commit(std::size_t frames, std::uint64_t lost_before)
    {
        std::error_code ec;
        if (lost_before > 0 && silence_.empty()) silence_.assign(chunk_frames * channels_, 0.0f);
        while (lost_before > 0 && !ec) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(lost_before, chunk_frames));
            ec = feed(std::span<const float>(silence_).first(n * channels_));
            lost_before -= n;
        }
        if (!ec) ec = feed(std::span<const float>(chunk_).first(frames * channels_));
        return ec;
    }

private:
    std::error_code feed(std::span<const float> in)
    {
        std::error_code ec;
        while (!in.empty()) {
            const std::span<float> out = inner_.buffer(chunk_frames);
            if (out.empty()) break; // the sink is full: the rest overshoots it
            std::size_t used = 0;
            const std::size_t n = r_.process(in, out, used, ec);
            if (ec) break;
            if (auto e = inner_.commit(n, 0)) return e;
            if (used == 0 && n == 0) break; // no progress: never expected from libsoxr
            in = in.subspan(used * channels_);
        }
        return ec;
    }

    Sink& inner_;
    std::vector<float> silence_;
};

} // namespace coaudio::detail

#endif
