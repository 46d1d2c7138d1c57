// coaudio: a resampled input stream's state and its read operation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_RESAMPLED_READ_HPP
#define COAUDIO_DETAIL_RESAMPLED_READ_HPP

#include <coaudio/detail/resampled_common.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The state of a resampled input stream, shared with its operations so that
/// a move of the stream leaves them working.
template <class Executor>
struct resampled_input_state {
    resampled_input_state(basic_input_stream<Executor>&& s, double app_rate, std::error_code& ec)
        : inner(std::move(s)), rate(app_rate),
          channels(static_cast<std::size_t>(inner.input_params().channels)),
          device_rate(inner.input_params().sample_rate), ratio(app_rate / device_rate),
          fifo(channels)
    {
        conv.emplace(fifo, device_rate, rate, int(channels), ec);
    }

    /// The ADC time of converted frame `k`: it stands for device frame k / ratio.
    double time_of(std::uint64_t k) const noexcept
    {
        if (anchor_time == 0) return 0;
        return anchor_time + (double(k) / ratio - double(anchor_at)) / device_rate;
    }

    /// Feeds `frames` frames that a read of the inner stream left in the
    /// converter's buffer, after the frames lost before them as silence. A
    /// loss is marked where its silence begins at the application's rate.
    std::error_code feed(std::size_t frames, const read_status& st)
    {
        const std::uint64_t lost = st.frames_lost;
        if (st.overflows != 0 || lost != 0) {
            // Cumulative rounding: the losses reported add up to the device's
            // total loss at the application's rate, rounded once.
            device_lost += lost;
            const auto total =
                static_cast<std::uint64_t>(std::llround(double(device_lost) * ratio));
            gaps.push_back({static_cast<std::uint64_t>(std::llround(double(fed) * ratio)),
                            total - lost_reported, st.overflows});
            lost_reported = total;
        }
        if (st.input_time != 0) {
            anchor_time = st.input_time;
            anchor_at = fed + lost;
        }
        fed += lost + frames;
        return conv->commit(frames, lost);
    }

    /// Where the silence of a loss begins (a converted frame's index), and the loss.
    struct gap_mark {
        std::uint64_t at;
        std::uint64_t frames_lost;
        std::uint32_t overflows;
    };

    basic_input_stream<Executor> inner;
    double rate;
    std::size_t channels;
    double device_rate;
    double ratio; ///< application frames per device frame
    frame_fifo fifo;
    std::optional<resampling_sink<frame_fifo>> conv;
    std::deque<gap_mark> gaps;   ///< losses not yet reported, in order
    std::uint64_t fed = 0;       ///< device frames fed, lost ones as silence
    std::uint64_t delivered = 0; ///< converted frames handed to reads
    std::uint64_t device_lost = 0;
    std::uint64_t lost_reported = 0;
    double anchor_time = 0; ///< the ADC time of device frame `anchor_at`; 0: none known
    std::uint64_t anchor_at = 0;
    read_status last_read;
    bool busy = false;
};

/// A read of a resampled input stream: reads of the inner stream at the
/// device's rate, converted into the target on the io thread.
template <class Executor, class Target, bool CountFrames>
class resampled_read_op : resampled_op_base<resampled_input_state<Executor>> {
    using base = resampled_op_base<resampled_input_state<Executor>>;
    using base::cancelled, base::claim, base::done_, base::ec_, base::owns_, base::st_;

public:
    resampled_read_op(std::shared_ptr<resampled_input_state<Executor>> st, Target target, bool all,
                      std::error_code precheck)
        : base(std::move(st), precheck), target_(std::move(target)), all_(all)
    {
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0)
    {
        switch (step_) {
        case step::start: return start(self);
        case step::posted: return finish(self);
        case step::reading: return on_read(self, ec, n);
        }
    }

private:
    enum class step { start, reading, posted };

    template <class Self>
    void start(Self& self)
    {
        if (claim(self, target_.frames > 0) && advance(self)) return;
        step_ = step::posted;
        asio::defer(std::move(self)); // as transfer_op does (transfer_op.hpp)
    }

    // Moves converted frames into the target and reads more as needed.
    // Returns true when a read of the inner stream is under way; false when
    // this operation is done (ec_ says how).
    template <class Self>
    bool advance(Self& self)
    {
        auto& s = *st_;
        for (;;) {
            // A read reports the losses marked at its first frame and ends
            // where the next loss's silence begins.
            std::size_t ready = s.fifo.available();
            while (!s.gaps.empty()) {
                const auto& g = s.gaps.front();
                if (g.at > s.delivered) {
                    ready = std::min<std::size_t>(ready, g.at - s.delivered);
                    break;
                }
                if (done_ > 0) return false;
                status_.frames_lost += g.frames_lost;
                status_.overflows += g.overflows;
                s.gaps.pop_front();
            }
            if (ready > 0) {
                if (done_ == 0) status_.input_time = s.time_of(s.delivered);
                const std::size_t k =
                    target_.put(s.fifo.front().first(ready * s.channels), s.channels, done_);
                s.fifo.pop(k);
                s.delivered += k;
                done_ += k;
            }
            if (done_ == target_.frames || (!all_ && done_ > 0)) return false;
            if (ready < s.fifo.available()) continue; // at a loss
            if (cancelled(self)) return false;
            const std::span<float> buf = s.conv->buffer(target_.frames - done_);
            step_ = step::reading;
            if (all_)
                s.inner.async_read_frames(buf, std::move(self));
            else
                s.inner.async_read_some(asio::buffer(buf.data(), buf.size_bytes()),
                                        std::move(self));
            return true;
        }
    }

    template <class Self>
    void on_read(Self& self, std::error_code ec, std::size_t n)
    {
        auto& s = *st_;
        if (!all_) n /= s.channels * sizeof(float);
        if (n > 0) {
            if (auto e = s.feed(n, s.inner.last_read())) ec = e;
        }
        if (ec == errc::input_overflow) ec = {}; // reported with the frames
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
            st_->busy = false;
            st_->last_read = status_;
            if (!ec_ && status_.overflows != 0 && st_->inner.is_open() &&
                st_->inner.input_params().overflow_is_error)
                ec_ = make_error_code(errc::input_overflow);
            if constexpr (!CountFrames) count *= st_->channels * sizeof(float);
        }
        // Let go of the state first: the handler may run on a thread of its
        // own executor and wake a caller that destroys the stream and its
        // io_context at once (as transfer_op does, transfer_op.hpp).
        st_.reset();
        self.complete(error_code(ec_), count);
    }

    Target target_;
    bool all_;
    read_status status_{};
    step step_ = step::start;
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
