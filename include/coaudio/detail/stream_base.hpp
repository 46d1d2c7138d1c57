// coaudio: what every stream shares: opening, control and status, and the
// machinery behind the operations that each stream declares.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_BASE_HPP
#define COAUDIO_DETAIL_STREAM_BASE_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_impl.hpp>
#include <coaudio/detail/stream_open.hpp>
#include <coaudio/detail/stream_ops.hpp>
#include <coaudio/error.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <memory>
#include <span>
#include <type_traits>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The executor-templated I/O object behind `basic_input_stream`,
/// `basic_output_stream` and `basic_duplex_stream`: construction,
/// open/close, start/stop/abort, cancel and status. Each of those classes
/// declares and documents its own operations, which start here through the
/// initiation objects below. Not thread-safe, like Asio's sockets: use a
/// stream from one thread (or strand) at a time.
///
/// An operation's initiating function runs on the thread that calls it, as
/// in Asio: `s.async_read_frames(buf, asio::use_future)` called from `main`
/// while another thread runs the io_context copies frames and arms the wait
/// on `main`'s thread. That is safe only while no other operation or call of
/// the same stream runs on another thread; otherwise initiate it on the
/// stream's executor (`asio::dispatch(s.get_executor(), ...)`, or a strand).
/// The completion handler runs on the executor either way.
/// The detail hook through which a stream adopts a core whose callback the
/// caller drives itself (`virtual_device`, tests): see `stream_core::process`.
/// Not part of the public interface, as Asio keeps its services' hooks.
struct core_access {
    template <class Stream>
    static void open(Stream& stream, std::unique_ptr<stream_core> c)
    {
        std::error_code ec;
        stream.close();
        stream.adopt(std::move(c), ec);
        throw_if(ec, "coaudio: open");
    }
};

template <class Executor, direction Dir>
class stream_base {
public:
    using executor_type = Executor;
    /// What `open` takes: a `stream_config`, or for duplex a `duplex_config`.
    using config_type = std::conditional_t<Dir == direction::duplex, duplex_config, stream_config>;

    /// A stream that is not open yet; see `open`.
    explicit stream_base(const executor_type& ex) : ex_(ex) {}

    /// Opens a stream. Throws `std::system_error`.
    stream_base(const executor_type& ex, const config_type& cfg) : ex_(ex) { open(cfg); }

    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit stream_base(ExecutionContext& ctx) : ex_(ctx.get_executor()) {}

    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    stream_base(ExecutionContext& ctx, const config_type& cfg) : ex_(ctx.get_executor())
    {
        open(cfg);
    }

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

    /// Moves from a stream on another executor type. The source must be idle.
    template <class Executor1>
    requires std::is_convertible_v<Executor1, Executor>
    stream_base(stream_base<Executor1, Dir>&& other) : ex_(other.get_executor())
    {
        if (auto c = other.release_core()) {
            std::error_code ec;
            adopt(std::move(c), ec);
            throw_if(ec, "coaudio: move");
        }
    }

    ~stream_base() { close(); }

    /// Opens a PortAudio stream, closing any stream opened before. A device
    /// given by name is resolved now (see `device_selector`). Throws
    /// `std::system_error` whose `what()` names the bad value and the limit
    /// it broke, e.g. "coaudio: open: invalid channel count 1000: device
    /// 'system' has 2 input channels".
    void open(const config_type& cfg)
    {
        std::error_code ec;
        diagnostics diag;
        open(cfg, ec, diag);
        throw_if(ec, "coaudio: open", diag.message());
    }
    void open(const config_type& cfg, std::error_code& ec)
    {
        diagnostics diag;
        open(cfg, ec, diag);
    }
    /// As above; `diag` receives the words that name the bad value.
    void open(const config_type& cfg, std::error_code& ec, diagnostics& diag)
    {
        close();
        diag.clear();
        std::string why;
        std::shared_ptr<stream_core> c;
        if constexpr (Dir == direction::duplex)
            c = open_core(Dir, &cfg.input, &cfg.output, ec, why);
        else
            c = open_core(Dir, &cfg, &cfg, ec, why);
        if (!ec) adopt(std::move(c), ec);
        diag.assign(std::move(why));
    }

    /// The executor the stream's operations run on by default.
    executor_type get_executor() const noexcept { return ex_; }

    bool is_open() const noexcept { return impl_ && impl_->core->is_open(); }

    /// True while the audio callback runs (started, not yet stopped, finished or lost).
    bool is_active() const noexcept
    {
        if (!is_open()) return false;
        const run_state s = impl_->core->state();
        return s == run_state::running || s == run_state::draining;
    }

    /// Starts the audio callback.
    ///
    /// `start`, `stop` and `abort` make their PortAudio call on coaudio's
    /// control thread and wait for it at most the stall timeout (2 s without
    /// one) plus the stream's latency; a host that hangs longer makes them
    /// fail with `errc::host_not_responding`, and the call is then not made if it had not
    /// begun, or finishes in the background.
    void start() { throw_if(start_impl(), "coaudio: start"); }
    void start(std::error_code& ec) { ec = start_impl(); }

    /// Stops the stream. Input stops at once; output first plays everything
    /// already written (blocking until it has), as `Pa_StopStream` does for
    /// its own buffers. Use `async_drain` to wait without blocking. With a
    /// stall timeout, a stream whose callbacks have stopped is stopped as
    /// `abort` does, since nothing queued can play: at once when a stall was
    /// already reported, otherwise once the timeout has passed without a
    /// callback.
    void stop() { throw_if(control(&stream_core::stop), "coaudio: stop"); }
    void stop(std::error_code& ec) { ec = control(&stream_core::stop); }

    /// Stops at once, discarding queued output.
    void abort() { throw_if(control(&stream_core::abort), "coaudio: abort"); }
    void abort(std::error_code& ec) { ec = control(&stream_core::abort); }

    /// Closes the stream. Pending operations complete with
    /// `asio::error::operation_aborted`. Closing a closed stream does nothing.
    /// Waits for PortAudio as `stop` does, but not at all once a stall was
    /// reported; a close that takes longer finishes on the control thread.
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

    /// Completes pending operations with `asio::error::operation_aborted`.
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
        impl_->cancel(ec);
    }

    /// Loss and silence totals since the stream was opened.
    stream_counters counters() const noexcept
    {
        return impl_ ? impl_->core->counters() : stream_counters{};
    }

    /// The stream's parameters as the host granted them (device, channels,
    /// format, actual sample rate), with the block size and latency that the
    /// host uses once callbacks have run (see `stream_params`).
    /// For a duplex stream: those of its input; see `input_params` and `output_params`.
    stream_params params() const
    {
        const stream_core& c = core("params");
        return has_input(c.dir()) ? c.input().current_params() : c.output().current_params();
    }
    double sample_rate() const { return params().sample_rate; }
    int channels() const { return params().channels; }
    sample_format format() const { return params().format; }
    std::size_t frame_bytes() const { return params().frame_bytes(); }
    /// The latency, in seconds (for duplex: the input's), as `stream_params`
    /// describes it; 0 when the host has reported none.
    double latency() const { return params().latency; }

    /// Frames the ring holds (input ring for input, output ring for output); 0 until opened.
    std::size_t ring_capacity() const noexcept requires(Dir != direction::duplex)
    {
        if (!impl_) return 0;
        return has_input(Dir) ? impl_->core->input().ring.capacity()
                              : impl_->core->output().ring.capacity();
    }

    /// The stream's clock in seconds (`Pa_GetStreamTime`): the clock of the
    /// ADC and DAC times that reads and writes report.
    double time() const { return core("time").time(); }
    /// The fraction of the callback's time budget in use (`Pa_GetStreamCpuLoad`).
    double cpu_load() const { return core("cpu_load").cpu_load(); }

    /// The PortAudio stream, for calls coaudio does not wrap (null when the
    /// stream is driven by the caller). Do not start, stop or close it.
    PaStream* native_handle() const noexcept
    {
        return impl_ ? impl_->core->native_handle() : nullptr;
    }

protected:
    // ---- for the public streams: their queries and operations ------------
    //
    // basic_input_stream, basic_output_stream and basic_duplex_stream
    // declare and document their operations; these do the work.

    std::size_t readable_frames() const noexcept
    {
        return impl_ ? impl_->core->input().ring.read_available() : 0;
    }
    read_status read_record() const noexcept { return impl_ ? impl_->last_read : read_status{}; }
    stream_params input_half() const { return core("input_params").input().current_params(); }

    std::size_t writable_frames() const noexcept
    {
        return impl_ ? impl_->core->output().ring.write_available() : 0;
    }
    write_status write_record() const noexcept
    {
        return impl_ ? impl_->last_write : write_status{};
    }
    stream_params output_half() const { return core("output_params").output().current_params(); }

    /// The initiation objects of the operations, for `asio::async_initiate`,
    /// as Asio's sockets have theirs: each starts its operation with the
    /// handler it is given, and names the stream's executor.
    class initiation {
    public:
        explicit initiation(stream_base* self) noexcept : self_(self) {}
        executor_type get_executor() const noexcept { return self_->get_executor(); }

    protected:
        stream_base* self_;
    };

    /// `async_read_some`: `void(error_code, std::size_t bytes)`.
    struct initiate_read_some : initiation {
        using initiation::initiation;
        template <class Handler, class Buffers>
        void operator()(Handler&& handler, const Buffers& buffers) const
        {
            start_byte_transfer<transfer_kind::read>(this->self_->ex_, this->self_->impl_, buffers,
                                                     std::forward<Handler>(handler));
        }
    };

    /// `async_read_frames`, interleaved or planar: `void(error_code, std::size_t frames)`.
    struct initiate_read_frames : initiation {
        using initiation::initiation;
        template <class Handler, class T, std::size_t Extent>
        void operator()(Handler&& handler, std::span<T, Extent> samples) const
        {
            start_interleaved_transfer<transfer_kind::read, T>(
                this->self_->ex_, this->self_->impl_, samples, std::forward<Handler>(handler));
        }
        template <class Handler, class T>
        void operator()(Handler&& handler, std::span<const std::span<T>> channels) const
        {
            start_planar_transfer<transfer_kind::read, T>(this->self_->ex_, this->self_->impl_,
                                                          channels, std::forward<Handler>(handler));
        }
    };

    /// `async_write_some`: `void(error_code, std::size_t bytes)`.
    struct initiate_write_some : initiation {
        using initiation::initiation;
        template <class Handler, class Buffers>
        void operator()(Handler&& handler, const Buffers& buffers) const
        {
            start_byte_transfer<transfer_kind::write>(this->self_->ex_, this->self_->impl_, buffers,
                                                      std::forward<Handler>(handler));
        }
    };

    /// `async_write_frames`, interleaved or planar: `void(error_code, std::size_t frames)`.
    struct initiate_write_frames : initiation {
        using initiation::initiation;
        template <class Handler, class T, std::size_t Extent>
        void operator()(Handler&& handler, std::span<T, Extent> samples) const
        {
            start_interleaved_transfer<transfer_kind::write, std::remove_const_t<T>>(
                this->self_->ex_, this->self_->impl_, samples, std::forward<Handler>(handler));
        }
        template <class Handler, class T>
        void operator()(Handler&& handler, std::span<const std::span<T>> channels) const
        {
            start_planar_transfer<transfer_kind::write, std::remove_const_t<T>>(
                this->self_->ex_, this->self_->impl_, channels, std::forward<Handler>(handler));
        }
    };

    /// `async_drain`: `void(error_code)`.
    struct initiate_drain : initiation {
        using initiation::initiation;
        template <class Handler>
        void operator()(Handler&& handler) const
        {
            start_transfer_op<false>(this->self_->ex_, this->self_->impl_, drain_transfer{}, {},
                                     std::forward<Handler>(handler));
        }
    };

    template <class Ex1, direction>
    friend class stream_base;
    friend struct core_access;
    friend struct stream_access; // a capture hub drives the stream's reads itself

    // Hands the core over (converting moves). The stream must be idle.
    std::shared_ptr<stream_core> release_core() noexcept
    {
        if (!impl_) return nullptr;
        impl_->release_bells();
        auto c = std::move(impl_->core);
        impl_.reset();
        return c;
    }

    void adopt(std::shared_ptr<stream_core> c, std::error_code& ec)
    {
        if (!c || c->dir() != Dir) {
            ec = make_error_code(errc::invalid_config);
            return;
        }
        try {
            impl_ = std::make_shared<stream_impl<executor_type>>(ex_, std::move(c));
        } catch (const std::system_error& e) {
            ec = e.code();
        }
    }

    const stream_core& core(const char* what) const
    {
        if (!impl_)
            throw std::system_error(make_error_code(errc::not_open),
                                    std::string("coaudio: ") + what);
        return *impl_->core;
    }

    executor_type ex_;
    std::shared_ptr<stream_impl<executor_type>> impl_;

private:
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
};

} // namespace coaudio::detail

#endif
