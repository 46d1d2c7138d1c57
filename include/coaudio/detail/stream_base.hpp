// coaudio: what input and output streams share: opening, control, status.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_BASE_HPP
#define COAUDIO_DETAIL_STREAM_BASE_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_impl.hpp>
#include <coaudio/error.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>

#include <memory>
#include <span>
#include <type_traits>
#include <utility>

namespace coaudio::detail {

/// The executor-templated I/O object common to `basic_input_stream` and
/// `basic_output_stream`: construction, open/close, start/stop/abort,
/// cancel and status. Not thread-safe, like Asio's sockets: use a stream
/// from one thread (or strand) at a time.
template <class Executor, direction Dir>
class stream_base {
public:
    using executor_type = Executor;

    /// The executor the stream's operations run on by default.
    executor_type get_executor() const noexcept { return ex_; }

    /// Opens a PortAudio stream, closing any stream opened before.
    void open(const stream_config& cfg)
    {
        std::error_code ec;
        open(cfg, ec);
        throw_if(ec, "coaudio: open");
    }
    void open(const stream_config& cfg, std::error_code& ec)
    {
        close();
        auto core = stream_core::open(Dir, cfg, ec);
        if (ec) return;
        adopt(std::move(core), ec);
    }

    /// Adopts a core whose callback the caller drives itself (tests, virtual
    /// devices): see `stream_core::process`.
    void open(std::unique_ptr<stream_core> core)
    {
        std::error_code ec;
        close();
        adopt(std::move(core), ec);
        throw_if(ec, "coaudio: open");
    }

    bool is_open() const noexcept { return impl_ && impl_->core->is_open(); }

    /// True while the audio callback runs (started, not yet stopped or lost).
    bool is_active() const noexcept
    {
        if (!is_open()) return false;
        const run_state s = impl_->core->state();
        return s == run_state::running || s == run_state::draining;
    }

    /// Starts the audio callback.
    void start() { throw_if(start_impl(), "coaudio: start"); }
    void start(std::error_code& ec) { ec = start_impl(); }

    /// Stops the stream. Input stops at once; output first plays everything
    /// already written (blocking until it has), as `Pa_StopStream` does for
    /// its own buffers. Use `async_drain` to wait without blocking.
    void stop() { throw_if(control(&stream_core::stop), "coaudio: stop"); }
    void stop(std::error_code& ec) { ec = control(&stream_core::stop); }

    /// Stops at once, discarding queued output.
    void abort() { throw_if(control(&stream_core::abort), "coaudio: abort"); }
    void abort(std::error_code& ec) { ec = control(&stream_core::abort); }

    /// Closes the stream. A pending operation completes with
    /// `asio::error::operation_aborted`. Closing a closed stream does nothing.
    void close() noexcept
    {
        if (impl_) {
            impl_->close();
            impl_.reset();
        }
    }
    void close(std::error_code& ec) noexcept
    {
        close();
        ec = {};
    }

    /// Completes a pending operation with `asio::error::operation_aborted`.
    void cancel()
    {
        std::error_code ec;
        cancel(ec);
        throw_if(ec, "coaudio: cancel");
    }
    void cancel(std::error_code& ec)
    {
        if (!impl_) {
            ec = make_error_code(errc::not_open);
            return;
        }
        impl_->bell.cancel(ec);
    }

    /// Loss and silence totals since the stream was opened.
    stream_counters counters() const noexcept { return impl_ ? impl_->core->counters() : stream_counters{}; }

    /// The parameters the stream was opened with, as the host granted them
    /// (device, channels, format, actual sample rate, latency in seconds).
    const stream_params& params() const
    {
        if (!impl_) throw std::system_error(make_error_code(errc::not_open), "coaudio: params");
        return impl_->core->params();
    }
    double sample_rate() const { return params().sample_rate; }
    int channels() const { return params().channels; }
    sample_format format() const { return params().format; }
    std::size_t frame_bytes() const { return params().frame_bytes(); }
    /// The latency the host granted, in seconds.
    double latency() const { return params().latency; }
    /// Frames the ring holds: 0 until opened.
    std::size_t ring_capacity() const noexcept { return impl_ ? impl_->core->ring().capacity() : 0; }

    /// The PortAudio stream, for calls coaudio does not wrap (null when the
    /// stream is driven by the caller). Do not start, stop or close it.
    PaStream* native_handle() const noexcept { return impl_ ? impl_->core->native_handle() : nullptr; }

protected:
    explicit stream_base(const executor_type& ex) : ex_(ex) {}
    stream_base(stream_base&&) noexcept = default;
    stream_base& operator=(stream_base&& other) noexcept
    {
        if (this != &other) {
            close();
            ex_ = other.ex_;
            impl_ = std::move(other.impl_);
        }
        return *this;
    }
    template <class Ex1>
    explicit stream_base(stream_base<Ex1, Dir>&& other) : ex_(other.get_executor())
    {
        if (auto core = other.release_core()) {
            std::error_code ec;
            adopt(std::move(core), ec);
            throw_if(ec, "coaudio: move");
        }
    }
    ~stream_base() { close(); }

    template <class Ex1, direction>
    friend class stream_base;

    // Hands the core over (converting moves). The stream must be idle.
    std::unique_ptr<stream_core> release_core() noexcept
    {
        if (!impl_) return nullptr;
        if (impl_->bell.is_open()) impl_->bell.release();
        auto core = std::move(impl_->core);
        impl_.reset();
        return core;
    }

    void adopt(std::unique_ptr<stream_core> core, std::error_code& ec)
    {
        if (!core || core->dir() != Dir) {
            ec = make_error_code(errc::invalid_config);
            return;
        }
        try {
            impl_ = std::make_shared<stream_impl<executor_type>>(ex_, std::move(core));
        } catch (const std::system_error& e) {
            ec = e.code();
        }
    }

    // Starts the one composed operation behind every transfer.
    template <transfer_kind Kind, bool CountFrames, class Buffers, class Token>
    auto initiate(const Buffers& buffers, std::size_t bytes, bool all, std::error_code precheck, Token&& token)
    {
        using signature = std::conditional_t<Kind == transfer_kind::drain, void(std::error_code),
                                             void(std::error_code, std::size_t)>;
        return asio::async_compose<Token, signature>(
            transfer_op<executor_type, Buffers, Kind, CountFrames>(ex_, impl_, buffers, bytes, all, precheck), token,
            ex_);
    }

    // The precondition of the typed operations: matching type, whole frames.
    template <class T>
    std::error_code check_samples(std::size_t samples) const noexcept
    {
        if (!is_open()) return make_error_code(errc::not_open);
        const stream_params& p = impl_->core->params();
        if (sample_traits<T>::format != p.format) return make_error_code(errc::format_mismatch);
        if (samples % static_cast<std::size_t>(p.channels) != 0) return make_error_code(errc::not_whole_frames);
        return {};
    }

    std::error_code start_impl()
    {
        if (!impl_) return make_error_code(errc::not_open);
        return impl_->core->start();
    }
    std::error_code control(std::error_code (stream_core::*fn)())
    {
        if (!impl_) return make_error_code(errc::not_open);
        return ((*impl_->core).*fn)();
    }

    executor_type ex_;
    std::shared_ptr<stream_impl<executor_type>> impl_;
};

} // namespace coaudio::detail

#endif
