// coaudio: a resampled output stream's state and its write and drain operation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_RESAMPLED_WRITE_HPP
#define COAUDIO_DETAIL_RESAMPLED_WRITE_HPP

#include <coaudio/detail/resampled_common.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The state of a resampled output stream.
template <class Executor>
struct resampled_output_state {
    resampled_output_state(basic_output_stream<Executor>&& s, double app_rate, std::error_code& ec)
        : inner(std::move(s)), rate(app_rate),
          channels(static_cast<std::size_t>(inner.output_params().channels)),
          device_rate(inner.output_params().sample_rate), ratio(device_rate / app_rate)
    {
        conv.open(rate, device_rate, int(channels), resample_quality::high, ec);
    }

    /// Converts `in` (all of it) into the frames waiting to be queued.
    std::error_code convert(std::span<const float> in)
    {
        std::error_code ec;
        while (!in.empty()) {
            const std::size_t room = resampled_frames(in.size() / channels, ratio) + 64;
            const std::size_t at = out.size();
            out.resize(at + room * channels);
            std::size_t used = 0;
            const std::size_t n = conv.process(in, std::span(out).subspan(at), used, ec);
            out.resize(at + n * channels);
            if (ec) break;
            if (used == 0 && n == 0) { // no progress: never expected from libsoxr
                ec = std::make_error_code(std::errc::invalid_argument);
                break;
            }
            taken += used;
            in = in.subspan(used * channels);
        }
        return ec;
    }

    /// Adds what the filter still holds to the frames waiting.
    std::error_code flush()
    {
        std::error_code ec;
        for (;;) {
            const std::size_t at = out.size();
            out.resize(at + chunk_frames * channels);
            const std::size_t n = conv.flush(std::span(out).subspan(at), ec);
            out.resize(at + n * channels);
            if (ec || n == 0) return ec;
        }
    }

    std::span<const float> waiting() const noexcept
    {
        return std::span<const float>(out).subspan(head * channels);
    }
    void queued(std::size_t frames) noexcept
    {
        head += frames;
        written += frames;
        if (head * channels == out.size()) {
            out.clear();
            head = 0;
        }
    }

    basic_output_stream<Executor> inner;
    double rate;
    std::size_t channels;
    double device_rate;
    double ratio; ///< device frames per application frame
    resampler conv;
    std::vector<float> out; ///< converted frames, from `head` on not yet queued
    std::vector<float> scratch;
    std::size_t head = 0;
    std::uint64_t taken = 0;   ///< application frames the converter has taken
    std::uint64_t written = 0; ///< device frames queued on the inner stream
    write_status last_write;
    bool busy = false;
};

/// A write (or, with `Drain`, a drain) of a resampled output stream: the
/// frames converted on the io thread, then written to the inner stream.
template <class Executor, class Source, bool CountFrames, bool Drain>
class resampled_write_op : resampled_op_base<resampled_output_state<Executor>> {
    using base = resampled_op_base<resampled_output_state<Executor>>;
    using base::cancelled, base::claim, base::done_, base::ec_, base::owns_, base::st_;

public:
    resampled_write_op(std::shared_ptr<resampled_output_state<Executor>> st, Source source,
                       bool all, std::error_code precheck)
        : base(std::move(st), precheck), source_(std::move(source)), all_(all)
    {
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0)
    {
        switch (step_) {
        case step::start: return start(self);
        case step::posted: return finish(self);
        case step::writing: return on_write(self, ec, n);
        case step::draining: ec_ = ec; return finish(self);
        }
    }

private:
    enum class step { start, writing, draining, posted };

    template <class Self>
    void start(Self& self)
    {
        if (claim(self, Drain || source_.frames > 0)) {
            first_ = st_->taken;
            if (advance(self)) return;
        }
        step_ = step::posted;
        asio::defer(std::move(self)); // as transfer_op does (transfer_op.hpp)
    }

    template <class Self>
    bool advance(Self& self)
    {
        auto& s = *st_;
        for (;;) {
            if (!s.waiting().empty()) {
                if (cancelled(self)) return false;
                step_ = step::writing;
                s.inner.async_write_frames(s.waiting(), std::move(self));
                return true;
            }
            if (done_ == source_.frames || (!all_ && done_ > 0)) break;
            if (cancelled(self)) return false;
            std::size_t n = std::min(source_.frames - done_, chunk_frames);
            if (!all_) { // as much as the ring takes now, at least a frame
                const double fits = double(s.inner.frames_writable()) / s.ratio;
                n = std::clamp<std::size_t>(static_cast<std::size_t>(fits), 1, n);
            }
            if ((ec_ = s.convert(source_.take(s.scratch, s.channels, done_, n)))) return false;
            done_ += n;
        }
        if constexpr (Drain) {
            if (!flushed_) {
                flushed_ = true;
                if ((ec_ = s.flush())) return false;
                return advance(self);
            }
            step_ = step::draining;
            s.inner.async_drain(std::move(self));
            return true;
        }
        return false;
    }

    template <class Self>
    void on_write(Self& self, std::error_code ec, std::size_t n)
    {
        auto& s = *st_;
        const std::uint64_t at = s.written;
        s.queued(n);
        const double t = s.inner.last_write().output_time;
        if (n > 0 && t != 0 && status_.output_time == 0 && !Drain) {
            // Application frame `first_` stands for device frame first_ * ratio.
            status_.output_time = t + (double(first_) * s.ratio - double(at)) / s.device_rate;
        }
        if (ec) {
            ec_ = ec;
            return finish(self);
        }
        if (!advance(self)) finish(self);
    }

    template <class Self>
    void finish(Self& self)
    {
        std::size_t count = done_;
        if (owns_) {
            auto& s = *st_;
            s.busy = false;
            if constexpr (Drain) {
                if (!ec_) { // the next frame begins a new signal
                    s.conv.clear();
                    s.taken = s.written = 0;
                }
            } else {
                s.last_write = status_;
            }
            if constexpr (!CountFrames) count *= s.channels * sizeof(float);
        }
        st_.reset(); // before the handler, as the read does (resampled_read.hpp)
        if constexpr (Drain)
            self.complete(error_code(ec_));
        else
            self.complete(error_code(ec_), count);
    }

    Source source_;
    bool all_;
    write_status status_{};
    std::uint64_t first_ = 0;
    bool flushed_ = false;
    step step_ = step::start;
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
