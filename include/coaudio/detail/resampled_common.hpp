// coaudio: what the resampled streams share: the converted-frame FIFO, targets
// and sources, the operations' base, opening and control.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_RESAMPLED_COMMON_HPP
#define COAUDIO_DETAIL_RESAMPLED_COMMON_HPP

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

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

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

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
