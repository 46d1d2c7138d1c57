// coaudio: input and output streams at a rate of the application's, over a
// float32 stream at the device's rate, converting on the io thread.
//
// Optional, as coaudio/resample.hpp: needs libsoxr (with CMake, link
// coaudio::soxr). coaudio/coaudio.hpp does not include this header.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_RESAMPLED_STREAM_HPP
#define COAUDIO_RESAMPLED_STREAM_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/resampling.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/resample.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

namespace detail {

/// Converted frames waiting for a read: the sink that a `resampling_sink`
/// commits into. It grows as needed, so the converter never overshoots it.
class frame_fifo {
public:
    explicit frame_fifo(std::size_t channels) : ch_(channels) {}

    std::uint64_t frames() const noexcept { return total_; }

    std::span<float> buffer(std::size_t max_frames)
    {
        if (head_ > 0) { // move what waits to the front
            std::copy(data_.begin() + std::ptrdiff_t(head_ * ch_),
                      data_.begin() + std::ptrdiff_t(tail_ * ch_), data_.begin());
            tail_ -= head_;
            head_ = 0;
        }
        if (data_.size() < (tail_ + max_frames) * ch_) data_.resize((tail_ + max_frames) * ch_);
        return std::span(data_).subspan(tail_ * ch_, max_frames * ch_);
    }

    std::error_code commit(std::size_t frames, std::uint64_t) noexcept
    {
        tail_ += frames;
        total_ += frames;
        return {};
    }

    std::size_t available() const noexcept { return tail_ - head_; }
    std::span<const float> front() const noexcept
    {
        return std::span<const float>(data_).subspan(head_ * ch_, available() * ch_);
    }
    void pop(std::size_t frames) noexcept { head_ += frames; }

private:
    std::size_t ch_;
    std::vector<float> data_;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
    std::uint64_t total_ = 0;
};

/// Where a converted read lands: a span of interleaved floats, or (for
/// `async_read_some`) a buffer sequence, filled by one copy.
struct float_span_target {
    std::span<float> samples;
    std::size_t frames;
    std::size_t put(std::span<const float> src, std::size_t channels, std::size_t done)
    {
        const std::size_t n = std::min(src.size() / channels, frames - done);
        std::copy_n(src.data(), n * channels, samples.data() + done * channels);
        return n;
    }
};

template <class Buffers>
struct float_buffers_target {
    Buffers buffers;
    std::size_t frames;
    std::size_t put(std::span<const float> src, std::size_t channels, std::size_t done)
    {
        const std::size_t n = std::min(src.size() / channels, frames - done);
        asio::buffer_copy(buffers, asio::buffer(src.data(), n * channels * sizeof(float)));
        return n;
    }
};

/// Where a converted write comes from: a span, or the bytes of a buffer sequence.
struct const_float_span_source {
    std::span<const float> samples;
    std::size_t frames;
    std::span<const float> take(std::vector<float>&, std::size_t channels, std::size_t done,
                                std::size_t n) const
    {
        return samples.subspan(done * channels, n * channels);
    }
};

template <class Buffers>
struct const_float_buffers_source {
    Buffers buffers;
    std::size_t frames;
    std::span<const float> take(std::vector<float>& scratch, std::size_t channels, std::size_t done,
                                std::size_t n) const
    {
        // write_some takes once, from the first byte: `done` is 0
        scratch.resize(n * channels);
        asio::buffer_copy(asio::buffer(scratch), buffers, (done + n) * channels * sizeof(float));
        return scratch;
    }
};

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

/// What a read and a write of a resampled stream share: the stream's state,
/// the operation's error and count, and whether it holds the stream.
template <class State>
class resampled_op_base {
protected:
    resampled_op_base(std::shared_ptr<State> st, std::error_code precheck)
        : st_(std::move(st)), ec_(precheck)
    {
    }

    // Takes the stream for this operation. False when the operation may not
    // begin (ec_ says why) or has nothing to do.
    template <class Self>
    bool claim(Self& self, bool work)
    {
        self.reset_cancellation_state(asio::enable_partial_cancellation());
        if (!ec_ && (!st_ || !st_->inner.is_open())) ec_ = make_error_code(errc::not_open);
        if (!ec_ && st_->busy) ec_ = make_error_code(errc::operation_in_progress);
        if (ec_ || !work) return false;
        st_->busy = owns_ = true;
        return true;
    }

    // True, with ec_ set, once the operation has been cancelled.
    template <class Self>
    bool cancelled(Self& self)
    {
        if (self.get_cancellation_state().cancelled() == asio::cancellation_type::none)
            return false;
        ec_ = aborted();
        return true;
    }

    std::shared_ptr<State> st_;
    std::error_code ec_;
    std::size_t done_ = 0;
    bool owns_ = false;
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
        asio::post(std::move(self));
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
        auto keep = std::move(st_);
        self.complete(error_code(ec_), count);
    }

    Target target_;
    bool all_;
    read_status status_{};
    step step_ = step::start;
};

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
        asio::post(std::move(self));
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
        auto keep = std::move(st_);
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

/// What the resampled streams share: the inner stream, opening, control.
template <class Executor, class Inner, class State>
class resampled_base {
public:
    using executor_type = Executor;
    using next_layer_type = Inner;

    explicit resampled_base(const executor_type& ex) : ex_(ex) {}

    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit resampled_base(ExecutionContext& ctx) : ex_(ctx.get_executor()) {}

    /// Opens at once, as `open(cfg)`.
    resampled_base(const executor_type& ex, const stream_config& cfg) : ex_(ex) { open(cfg); }
    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    resampled_base(ExecutionContext& ctx, const stream_config& cfg) : ex_(ctx.get_executor())
    {
        open(cfg);
    }
    /// Takes `inner`, as `assign(inner, rate)`.
    resampled_base(Inner&& inner, double rate) : ex_(inner.get_executor())
    {
        assign(std::move(inner), rate);
    }

    resampled_base(resampled_base&&) noexcept = default;
    resampled_base& operator=(resampled_base&& other) noexcept
    {
        if (this != &other) {
            close();
            ex_ = other.ex_;
            st_ = std::move(other.st_);
        }
        return *this;
    }
    ~resampled_base() { close(); }

    /// Opens the device with `cfg`, whose `sample_rate` is the application's
    /// rate (0: the device's default) and whose format must be float32. The
    /// device is asked for that rate; one that refuses it
    /// (`errc::invalid_sample_rate`) is opened at its default rate, and the
    /// frames are converted. Throws `std::system_error`.
    void open(const stream_config& cfg)
    {
        std::error_code ec;
        open(cfg, ec);
        throw_if(ec, "coaudio: resampled stream open");
    }
    void open(const stream_config& cfg, std::error_code& ec)
    {
        close();
        if (cfg.format != sample_format::float32) {
            ec = make_error_code(errc::format_mismatch);
            return;
        }
        Inner inner(ex_);
        open_converting(inner, cfg, ec);
        if (!ec) assign(std::move(inner), cfg.sample_rate, ec);
    }

    /// Takes an open float32 stream, at the device's rate, and converts its
    /// frames from or to `rate` (0: the stream's own rate). Errors:
    /// `errc::not_open`, `errc::format_mismatch`, `errc::invalid_sample_rate`.
    void assign(Inner&& inner, double rate)
    {
        std::error_code ec;
        assign(std::move(inner), rate, ec);
        throw_if(ec, "coaudio: resampled stream assign");
    }
    void assign(Inner&& inner, double rate, std::error_code& ec)
    {
        close();
        ec.clear();
        if (!inner.is_open()) {
            ec = make_error_code(errc::not_open);
            return;
        }
        if (inner.format() != sample_format::float32) {
            ec = make_error_code(errc::format_mismatch);
            return;
        }
        if (rate == 0) rate = inner.sample_rate();
        auto st = std::make_shared<State>(std::move(inner), rate, ec);
        if (!ec) st_ = std::move(st);
    }

    executor_type get_executor() const noexcept { return ex_; }

    /// The stream at the device's rate: for `start`, `stop`, `counters()`,
    /// `params()`, `time()`. Reads or writes on it bypass the converter.
    /// Throws `errc::not_open` when nothing is open.
    next_layer_type& next_layer()
    {
        if (!st_) throw std::system_error(make_error_code(errc::not_open), "coaudio: next_layer");
        return st_->inner;
    }
    const next_layer_type& next_layer() const
    {
        return const_cast<resampled_base*>(this)->next_layer();
    }

    bool is_open() const noexcept { return st_ && st_->inner.is_open(); }

    /// The application's rate, in frames per second.
    double sample_rate() const noexcept { return st_ ? st_->rate : 0; }
    /// The rate the device runs at.
    double device_rate() const noexcept { return st_ ? st_->device_rate : 0; }
    int channels() const noexcept { return st_ ? int(st_->channels) : 0; }
    std::size_t frame_bytes() const noexcept { return st_ ? st_->channels * sizeof(float) : 0; }

    void start() { next_layer().start(); }
    void start(std::error_code& ec)
    {
        if (!st_)
            ec = make_error_code(errc::not_open);
        else
            st_->inner.start(ec);
    }
    void stop() { next_layer().stop(); }
    void stop(std::error_code& ec)
    {
        if (!st_)
            ec = make_error_code(errc::not_open);
        else
            st_->inner.stop(ec);
    }

    /// Closes the stream; pending operations complete with `operation_aborted`.
    void close() noexcept
    {
        if (st_) st_->inner.close();
        st_.reset();
    }

    /// Completes pending operations with `operation_aborted`.
    void cancel()
    {
        std::error_code ec;
        cancel(ec);
        throw_if(ec, "coaudio: cancel");
    }
    void cancel(std::error_code& ec)
    {
        if (!st_)
            ec = make_error_code(errc::not_open);
        else
            st_->inner.cancel(ec);
    }

protected:
    // The frames of a buffer sequence of `bytes` bytes, and whether an
    // operation on it may begin.
    std::size_t frames_of_bytes(std::size_t bytes, std::error_code& ec) const noexcept
    {
        const std::size_t fb = frame_bytes();
        if (fb == 0)
            ec = make_error_code(errc::not_open);
        else if (bytes != 0 && bytes < fb)
            ec = make_error_code(errc::not_whole_frames);
        return fb == 0 ? 0 : bytes / fb;
    }
    // The frames of `samples` interleaved samples, likewise.
    std::size_t frames_of_samples(std::size_t samples, std::error_code& ec) const noexcept
    {
        const auto ch = std::size_t(channels());
        if (ch == 0)
            ec = make_error_code(errc::not_open);
        else if (samples % ch != 0)
            ec = make_error_code(errc::not_whole_frames);
        return ec ? 0 : samples / ch;
    }

    executor_type ex_;
    std::shared_ptr<State> st_;
};

} // namespace detail

/// A capture stream whose frames arrive at the application's rate: an inner
/// float32 `basic_input_stream` runs at the device's rate, and its frames are
/// converted by libsoxr on the io thread, in the read operations, never in the
/// audio callback. An Asio AsyncReadStream.
///
/// Time and loss, at the application's rate: converted frame k stands for
/// device frame k × device rate / rate (libsoxr compensates its filter's
/// delay), so `last_read().input_time` is the ADC time of the read's first
/// frame, from the inner stream's times. Frames lost before a read of the
/// inner stream are fed through the converter as silence, so what follows
/// keeps time; the read that begins after the gap reports it, with
/// `frames_lost` in frames at the application's rate (the reports add up to
/// the device's total loss times rate / device rate, rounded once), and
/// completes with `errc::input_overflow` where the inner stream's
/// `overflow_is_error` asks for that. The gap's edges are softened by the
/// filter, a few milliseconds either side.
///
/// A stop and a start are not a gap: the converter runs on across them, and
/// the read that hands out the last frames from before the stop is dated from
/// the times after the start (late by the pause). Close and open again for a
/// fresh start.
///
/// One read may be outstanding at a time. `start`, `stop`, `close` and
/// `cancel` are forwarded; the counters (at the device's rate) and the rest
/// are on `next_layer()`.
template <class Executor = asio::any_io_executor>
class basic_resampled_input_stream
    : public detail::resampled_base<Executor, basic_input_stream<Executor>,
                                    detail::resampled_input_state<Executor>> {
    using base = detail::resampled_base<Executor, basic_input_stream<Executor>,
                                        detail::resampled_input_state<Executor>>;

public:
    using base::base;

    /// What the last completed read found, at the application's rate.
    read_status last_read() const noexcept
    {
        return this->st_ ? this->st_->last_read : read_status{};
    }

    /// Converted frames waiting, ready for a read without a wait.
    std::size_t frames_available() const noexcept
    {
        return this->st_ ? this->st_->fifo.available() : 0;
    }

    /// Reads one or more whole frames (float32) into `buffers`, at the
    /// application's rate. Completes once at least one has been copied, with
    /// the bytes read; stops short of a gap.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: as `basic_input_stream::async_read_some`.
    /// Cancellation: terminal and partial; frames read from the device and
    /// not yet handed out wait for the next read.
    template <class MutableBufferSequence, class Token = default_token_t<Executor>>
    requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_bytes(asio::buffer_size(buffers), ec);
        return launch<false>(detail::float_buffers_target<MutableBufferSequence>{buffers, frames},
                             false, ec, std::forward<Token>(token));
    }

    /// Reads `samples.size() / channels()` interleaved frames at the
    /// application's rate. Completes when the span is full, or early with
    /// success where frames were lost after the ones it read; the next read
    /// reports the gap. `last_read().input_time` is the ADC time of the
    /// first frame.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `basic_input_stream::async_read_frames`.
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_read_frames(std::span<float, Extent> samples, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_samples(samples.size(), ec);
        return launch<true>(detail::float_span_target{std::span<float>(samples), frames}, true, ec,
                            std::forward<Token>(token));
    }

private:
    template <bool CountFrames, class Target, class Token>
    auto launch(Target target, bool all, std::error_code precheck, Token&& token)
    {
        return asio::async_compose<Token, void(error_code, std::size_t)>(
            detail::resampled_read_op<Executor, Target, CountFrames>(this->st_, std::move(target),
                                                                     all, precheck),
            token, this->ex_);
    }
};

/// A playback stream that takes frames at the application's rate: an inner
/// float32 `basic_output_stream` runs at the device's rate, and the frames
/// are converted by libsoxr on the io thread, in the write operations, never
/// in the audio callback. An Asio AsyncWriteStream.
///
/// The filter holds back a few milliseconds of what was written; the next
/// write or `async_drain` (which flushes the filter) sends them on.
/// `last_write().output_time` is the DAC time of the write's first frame:
/// application frame j stands for device frame j × device rate / rate.
/// After a drain the next frame begins a new signal.
///
/// One write or drain may be outstanding at a time.
template <class Executor = asio::any_io_executor>
class basic_resampled_output_stream
    : public detail::resampled_base<Executor, basic_output_stream<Executor>,
                                    detail::resampled_output_state<Executor>> {
    using base = detail::resampled_base<Executor, basic_output_stream<Executor>,
                                        detail::resampled_output_state<Executor>>;

public:
    using base::base;

    /// What the last completed write learned, at the application's rate.
    write_status last_write() const noexcept
    {
        return this->st_ ? this->st_->last_write : write_status{};
    }

    /// Writes one or more whole frames (float32) from `buffers`: as many as
    /// the inner ring takes now, converted (at least one frame, at most 2048).
    /// Completes once their converted frames are queued, with the bytes taken.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: as `basic_output_stream::async_write_some`.
    /// Cancellation: terminal and partial.
    template <class ConstBufferSequence, class Token = default_token_t<Executor>>
    requires asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
    async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_bytes(asio::buffer_size(buffers), ec);
        return launch<false, false>(
            detail::const_float_buffers_source<ConstBufferSequence>{buffers, frames}, false, ec,
            std::forward<Token>(token));
    }

    /// Converts and queues all `samples.size() / channels()` interleaved
    /// frames at the application's rate, waiting for ring space as needed.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `basic_output_stream::async_write_frames`.
    /// Cancellation: terminal and partial; frames taken by the converter are
    /// counted, and play with the next write or drain.
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_write_frames(std::span<const float, Extent> samples, Token&& token = Token{})
    {
        std::error_code ec;
        const std::size_t frames = this->frames_of_samples(samples.size(), ec);
        return launch<true, false>(
            detail::const_float_span_source{std::span<const float>(samples), frames}, true, ec,
            std::forward<Token>(token));
    }
    template <std::size_t Extent, class Token = default_token_t<Executor>>
    auto async_write_frames(std::span<float, Extent> samples, Token&& token = Token{})
    {
        return async_write_frames(std::span<const float>(samples), std::forward<Token>(token));
    }

    /// Flushes the filter, queues the rest, and completes once everything
    /// written has played and the stream has finished (as
    /// `basic_output_stream::async_drain`).
    ///
    /// Signature: `void(coaudio::error_code)`.
    template <class Token = default_token_t<Executor>>
    auto async_drain(Token&& token = Token{})
    {
        return asio::async_compose<Token, void(error_code)>(
            detail::resampled_write_op<Executor, detail::const_float_span_source, true, true>(
                this->st_, {{}, 0}, true, {}),
            token, this->ex_);
    }

private:
    template <bool CountFrames, bool Drain, class Source, class Token>
    auto launch(Source source, bool all, std::error_code precheck, Token&& token)
    {
        return asio::async_compose<Token, void(error_code, std::size_t)>(
            detail::resampled_write_op<Executor, Source, CountFrames, Drain>(
                this->st_, std::move(source), all, precheck),
            token, this->ex_);
    }
};

/// Resampled streams on `asio::any_io_executor`.
using resampled_input_stream = basic_resampled_input_stream<>;
using resampled_output_stream = basic_resampled_output_stream<>;

} // namespace coaudio

#endif
