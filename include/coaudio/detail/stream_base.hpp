// coaudio: what every stream shares: opening, control, status, and the
// read and write operations of the directions it has.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_BASE_HPP
#define COAUDIO_DETAIL_STREAM_BASE_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_impl.hpp>
#include <coaudio/detail/stream_open.hpp>
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
/// open/close, start/stop/abort, cancel, status, and the operations of the
/// directions the stream has. Not thread-safe, like Asio's sockets: use a
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
    static constexpr bool reads = has_input(Dir);
    static constexpr bool writes = has_output(Dir);

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
        return reads ? impl_->core->input().ring.capacity() : impl_->core->output().ring.capacity();
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

    // ---- reading (input and duplex) --------------------------------------

    /// Frames waiting in the input ring.
    std::size_t frames_available() noexcept requires reads
    {
        return impl_ ? impl_->core->input().ring.read_available() : 0;
    }

    /// What the last completed read found: frames lost and overflow events
    /// just before its first frame, and that frame's ADC time.
    read_status last_read() const noexcept requires reads
    {
        return impl_ ? impl_->last_read : read_status{};
    }

    /// The input half's parameters.
    stream_params input_params() const requires reads
    {
        return core("input_params").input().current_params();
    }

    /// Reads one or more whole frames into `buffers`.
    ///
    /// Completes as soon as at least one frame has been copied, with the
    /// number of bytes read (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame that fits are left untouched; a non-empty buffer
    /// smaller than one frame fails with `errc::not_whole_frames`. Like
    /// `async_read_frames`, it stops short of a gap in the data.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (stopped, nothing buffered), `errc::device_lost`, `errc::not_open`,
    /// `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class MutableBufferSequence, class Token = default_token_t<executor_type>>
    requires reads && asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        return byte_op<transfer_kind::read>(buffers, std::forward<Token>(token));
    }

    /// Reads `samples.size() / channels` interleaved frames into `samples`.
    ///
    /// Completes when the span is full, or when an error ends it, or early
    /// and with success where frames were lost after the ones it read: a
    /// full ring, or an overrun that the host reported (a JACK xrun). The
    /// gap is reported by the read that begins after it (`last_read()`,
    /// and `errc::input_overflow` with `overflow_is_error`), in order with
    /// its data, so that no read's data straddles a gap. Check the count: a
    /// one-second read may return less than a second.
    ///
    /// A read larger than the ring is copied in parts as the ring fills,
    /// and still completes once, so a reader that keeps up loses nothing.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `async_read_some`, plus `errc::format_mismatch` (T is not
    /// the stream's format) and `errc::not_whole_frames` (size not a
    /// multiple of the channel count).
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <sample_type T, std::size_t Extent, class Token = default_token_t<executor_type>>
    requires reads auto async_read_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return interleaved_op<transfer_kind::read, T>(
            asio::buffer(samples.data(), samples.size_bytes()), samples.size(),
            std::forward<Token>(token));
    }

    /// Reads non-interleaved: one span per channel, all the same length;
    /// otherwise as the interleaved overload.
    template <sample_type T, class Token = default_token_t<executor_type>>
    requires reads auto async_read_frames(std::span<const std::span<T>> channels,
                                          Token&& token = Token{})
    {
        return planar_op<transfer_kind::read, T>(channels, std::forward<Token>(token));
    }

    // ---- writing (output and duplex) -------------------------------------

    /// Free frames in the output ring: how much a write takes without waiting.
    std::size_t frames_writable() noexcept requires writes
    {
        return impl_ ? impl_->core->output().ring.write_available() : 0;
    }

    /// What the last completed write learned: when its first frame is
    /// expected at the DAC.
    write_status last_write() const noexcept requires writes
    {
        return impl_ ? impl_->last_write : write_status{};
    }

    /// The output half's parameters.
    stream_params output_params() const requires writes
    {
        return core("output_params").output().current_params();
    }

    /// Writes one or more whole frames from `buffers`.
    ///
    /// Completes as soon as at least one frame has been queued, with the
    /// number of bytes taken (a multiple of `frame_bytes()`). Bytes past the
    /// last whole frame are not taken; a non-empty buffer smaller than one
    /// frame fails with `errc::not_whole_frames`.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled or closed), `errc::not_running`
    /// (finished, or stopped with a full ring), `errc::device_lost`,
    /// `errc::not_open`, `errc::operation_in_progress`.
    /// Cancellation: terminal and partial.
    template <class ConstBufferSequence, class Token = default_token_t<executor_type>>
    requires writes && asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
    async_write_some(const ConstBufferSequence& buffers, Token&& token = Token{})
    {
        return byte_op<transfer_kind::write>(buffers, std::forward<Token>(token));
    }

    /// Queues all `samples.size() / channels` interleaved frames of
    /// `samples`, waiting for ring space as needed.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `async_write_some`, plus `errc::format_mismatch` and
    /// `errc::not_whole_frames`.
    /// Cancellation: terminal and partial; frames already queued are counted
    /// and will be played.
    template <class T, std::size_t Extent, class Token = default_token_t<executor_type>>
    requires writes && sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        return interleaved_op<transfer_kind::write, std::remove_const_t<T>>(
            asio::buffer(samples.data(), samples.size_bytes()), samples.size(),
            std::forward<Token>(token));
    }

    /// Writes non-interleaved: one span per channel, all the same length;
    /// otherwise as the interleaved overload.
    template <class T, class Token = default_token_t<executor_type>>
    requires writes && sample_type<std::remove_const_t<T>>
    auto async_write_frames(std::span<const std::span<T>> channels, Token&& token = Token{})
    {
        return planar_op<transfer_kind::write, std::remove_const_t<T>>(channels,
                                                                       std::forward<Token>(token));
    }

    /// Completes once every frame written so far has been played and the
    /// stream has finished; the stream is then inactive until `start()`.
    /// Completes at once if the stream is stopped with nothing queued.
    ///
    /// Signature: `void(coaudio::error_code)`.
    /// Errors: `operation_aborted`, `errc::not_running` (stopped with frames
    /// still queued), `errc::device_lost`, `errc::not_open`,
    /// `errc::operation_in_progress` (a write is pending).
    /// Cancellation: terminal and partial; the stream keeps draining.
    template <class Token = default_token_t<executor_type>>
    requires writes auto async_drain(Token&& token = Token{})
    {
        return launch<false>(drain_transfer{}, {}, std::forward<Token>(token));
    }

protected:
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
    template <bool CountFrames, class Machine, class Token>
    auto launch(Machine machine, std::error_code precheck, Token&& token)
    {
        using signature =
            std::conditional_t<Machine::has_count, void(error_code, std::size_t), void(error_code)>;
        return asio::async_compose<Token, signature>(
            transfer_op<executor_type, Machine, CountFrames>(impl_, std::move(machine), precheck),
            token, ex_);
    }

    // The machine of a read or a write of `target`.
    template <transfer_kind Kind, bool CountFrames, class Target, class Token>
    auto launch_transfer(Target target, bool all, std::error_code precheck, Token&& token)
    {
        using machine = std::conditional_t<Kind == transfer_kind::read, read_transfer<Target>,
                                           write_transfer<Target>>;
        return launch<CountFrames>(machine(std::move(target), all), precheck,
                                   std::forward<Token>(token));
    }

    const stream_params* channel_params(transfer_kind kind) const noexcept
    {
        if (!is_open()) return nullptr;
        return kind == transfer_kind::read ? &impl_->core->input().params
                                           : &impl_->core->output().params;
    }

    template <transfer_kind Kind, class Buffers, class Token>
    auto byte_op(const Buffers& buffers, Token&& token)
    {
        const std::size_t bytes = asio::buffer_size(buffers);
        std::error_code ec;
        std::size_t frames = 0;
        if (const stream_params* p = channel_params(Kind)) {
            frames = bytes / p->frame_bytes();
            if (bytes != 0 && frames == 0) ec = make_error_code(errc::not_whole_frames);
        } else {
            ec = make_error_code(errc::not_open);
        }
        return launch_transfer<Kind, false>(interleaved_target<Buffers>{buffers, frames}, false, ec,
                                            std::forward<Token>(token));
    }

    // The precondition of the typed operations: matching type, whole frames.
    template <class T>
    std::error_code check_samples(const stream_params* p, std::size_t samples) const noexcept
    {
        if (p == nullptr) return make_error_code(errc::not_open);
        if (sample_traits<T>::format != p->format) return make_error_code(errc::format_mismatch);
        if (samples % static_cast<std::size_t>(p->channels) != 0)
            return make_error_code(errc::not_whole_frames);
        return {};
    }

    template <transfer_kind Kind, class T, class Buffer, class Token>
    auto interleaved_op(const Buffer& buffer, std::size_t samples, Token&& token)
    {
        const stream_params* p = channel_params(Kind);
        std::error_code ec = check_samples<T>(p, samples);
        const std::size_t frames = ec ? 0 : samples / static_cast<std::size_t>(p->channels);
        return launch_transfer<Kind, true>(interleaved_target<Buffer>{buffer, frames}, true, ec,
                                           std::forward<Token>(token));
    }

    template <transfer_kind Kind, class T, class U, class Token>
    auto planar_op(std::span<const std::span<U>> channels, Token&& token)
    {
        const stream_params* p = channel_params(Kind);
        std::error_code ec;
        if (p == nullptr)
            ec = make_error_code(errc::not_open);
        else if (sample_traits<T>::format != p->format)
            ec = make_error_code(errc::format_mismatch);
        else if (channels.size() != static_cast<std::size_t>(p->channels))
            ec = make_error_code(errc::invalid_channels);
        const std::size_t frames = channels.empty() ? 0 : channels[0].size();
        for (const auto& ch : channels)
            if (!ec && ch.size() != frames) ec = make_error_code(errc::not_whole_frames);
        return launch_transfer<Kind, true>(planar_target<U>{channels, ec ? 0 : frames}, true, ec,
                                           std::forward<Token>(token));
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
};

} // namespace coaudio::detail

#endif
