// coaudio: several readers of one capture, each at its own pace.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_CAPTURE_HUB_HPP
#define COAUDIO_CAPTURE_HUB_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/capture_hub.hpp>
#include <coaudio/detail/compose.hpp>

#include <memory>
#include <span>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

template <class Executor>
class basic_capture_reader;

/// Shares one capture among any number of readers (`basic_capture_reader`),
/// each with its own cursor, loss accounting and read operations: a level
/// meter, a recorder and a speech pipeline on one microphone.
///
/// The audio callback is unchanged: it copies each block once into the
/// stream's ring. The hub runs one read of the stream at a time on the
/// stream's executor (the pump), so the ring is drained as promptly as by a
/// reader that keeps up, and appends each piece to every reader's own
/// buffer. A reader that stalls fills its buffer and then loses its own
/// newest frames, counted and reported as a gap before the next frames it
/// gets; the others never wait for it.
///
/// While a hub is attached, the stream's own reads fail with
/// `errc::operation_in_progress`: the pump holds the stream's one read.
/// The hub, its readers and the stream belong to the stream's executor and
/// are used from one thread at a time, as any Asio I/O object.
///
/// Destroying the hub completes the parked reads with `operation_aborted`;
/// destroying or closing the stream makes them fail as a stream read would.
/// Either may go first. A stream may be moved (its reads go along), but not
/// to another executor type while a hub is attached: such a move needs an
/// idle stream. Movable, not copyable.
template <class Executor = asio::any_io_executor>
class basic_capture_hub {
public:
    using executor_type = Executor;
    using reader_type = basic_capture_reader<Executor>;

    /// Attaches to an open input or duplex stream and starts draining it if
    /// it is running (otherwise at the first read of a reader). Throws
    /// `std::system_error` with `errc::not_open`.
    template <detail::direction Dir>
    requires(detail::has_input(Dir)) explicit basic_capture_hub(
        detail::stream_base<Executor, Dir>& stream)
    {
        auto impl = detail::stream_access::impl(stream);
        if (!impl || !impl->core->is_open())
            detail::throw_if(make_error_code(errc::not_open), "coaudio: capture_hub");
        state_ =
            std::make_shared<detail::hub_state<Executor>>(std::move(impl), stream.get_executor());
        if (stream.is_active()) detail::hub_state<Executor>::pump(state_);
    }

    basic_capture_hub(basic_capture_hub&&) noexcept = default;
    basic_capture_hub& operator=(basic_capture_hub&& other) noexcept
    {
        if (this != &other) {
            close();
            state_ = std::move(other.state_);
        }
        return *this;
    }
    ~basic_capture_hub() { close(); }

    /// Detaches from the stream now, as the destructor does.
    void close() noexcept
    {
        if (state_) std::exchange(state_, nullptr)->close();
    }

    executor_type get_executor() const noexcept { return state_->ex; }

    /// A new reader whose buffer holds `capacity_frames` frames (0: one
    /// second); it gets every frame captured from now on.
    reader_type make_reader(std::size_t capacity_frames = 0)
    {
        return reader_type(*this, capacity_frames);
    }

    /// Readers attached now.
    std::size_t readers() const noexcept { return state_ ? state_->readers.size() : 0; }

    /// The stream's input parameters, which every reader shares.
    detail::stream_params params() const { return state().params; }

private:
    friend class basic_capture_reader<Executor>;

    detail::hub_state<Executor>& state() const
    {
        if (!state_) detail::throw_if(make_error_code(errc::not_open), "coaudio: capture_hub");
        return *state_;
    }

    std::shared_ptr<detail::hub_state<Executor>> state_;
};

/// One reader of a `basic_capture_hub`: frames of the shared capture,
/// through read operations shaped like the input stream's, from its own
/// bounded buffer.
///
/// Each reader has its own cursor, counters (`counters()`) and gap records:
/// a read stops where frames were lost before the next frame (by this
/// reader's full buffer or by the stream), and the read that begins after
/// it reports the loss in `last_read()`, whose `input_time` is the ADC time
/// of that read's first frame. Lost frames are counted exactly: frames read
/// plus `frames_lost` of every read add up to the frames the stream
/// captured since the reader was made.
///
/// One read may be outstanding at a time. Destroying the reader completes
/// its pending read with `operation_aborted`. Movable, not copyable.
template <class Executor = asio::any_io_executor>
class basic_capture_reader {
public:
    using executor_type = Executor;

    /// A reader of `hub` whose buffer holds `capacity_frames` frames (0: one
    /// second). Throws `std::system_error` with `errc::not_open` when the
    /// hub is closed.
    explicit basic_capture_reader(basic_capture_hub<Executor>& hub, std::size_t capacity_frames = 0)
        : ex_(hub.state().ex)
    {
        auto& h = hub.state();
        if (capacity_frames == 0) capacity_frames = static_cast<std::size_t>(h.params.sample_rate);
        state_ = std::make_shared<detail::reader_state<Executor>>(hub.state_, capacity_frames);
        h.readers.push_back(state_.get());
    }

    basic_capture_reader(basic_capture_reader&&) noexcept = default;
    basic_capture_reader& operator=(basic_capture_reader&& other) noexcept
    {
        if (this != &other) {
            close();
            ex_ = other.ex_;
            state_ = std::move(other.state_);
        }
        return *this;
    }
    ~basic_capture_reader() { close(); }

    /// Detaches from the hub now, as the destructor does.
    void close() noexcept
    {
        if (!state_) return;
        auto s = std::exchange(state_, nullptr);
        s->closed = true;
        if (s->hub) std::erase(s->hub->readers, s.get());
        s->hub.reset();
        s->wake.cancel();
    }

    executor_type get_executor() const noexcept { return ex_; }

    /// True while the reader is attached to a hub that is attached to an open stream.
    bool is_attached() const noexcept { return state_ && state_->hub && state_->hub->usable(); }

    /// Frames waiting in the reader's buffer.
    std::size_t frames_available() const noexcept { return state_ ? state_->available() : 0; }

    /// Frames the reader's buffer holds.
    std::size_t capacity() const noexcept { return state_ ? state_->capacity : 0; }

    /// Totals since the reader was made.
    reader_counters counters() const noexcept
    {
        return state_ ? state_->counters : reader_counters{};
    }

    /// What the last completed read found: frames lost and loss events just
    /// before its first frame, and that frame's ADC time.
    read_status last_read() const noexcept { return state_ ? state_->last_read : read_status{}; }

    /// Completes the pending read with `asio::error::operation_aborted`.
    void cancel()
    {
        std::error_code ec;
        cancel(ec);
        detail::throw_if(ec, "coaudio: capture_reader cancel");
    }
    void cancel(std::error_code& ec)
    {
        if (!state_) {
            ec = make_error_code(errc::not_open);
            return;
        }
        ec = {};
        if (state_->busy) {
            state_->cancel_requested = true;
            state_->wake.cancel();
        }
    }

    /// Reads one or more whole frames into `buffers`.
    ///
    /// Completes as soon as at least one frame has been copied, with the
    /// number of bytes read (a multiple of the frame size); stops short of a
    /// gap in the data.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t bytes)`.
    /// Errors: `operation_aborted` (cancelled, or the hub or reader went),
    /// the stream's read errors (`errc::not_running`, `errc::device_lost`,
    /// `errc::stalled`, ...) once the frames before them have been read,
    /// `errc::not_open` (detached), `errc::operation_in_progress`,
    /// `errc::not_whole_frames`.
    /// Cancellation: terminal and partial.
    template <class MutableBufferSequence, class Token = default_token_t<executor_type>>
    requires asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
    async_read_some(const MutableBufferSequence& buffers, Token&& token = Token{})
    {
        const std::size_t bytes = asio::buffer_size(buffers);
        std::error_code ec;
        std::size_t frames = 0;
        if (!state_)
            ec = make_error_code(errc::not_open);
        else if (frames = bytes / state_->frame_bytes; bytes != 0 && frames == 0)
            ec = make_error_code(errc::not_whole_frames);
        return launch<false>(detail::interleaved_target<MutableBufferSequence>{buffers, frames},
                             false, ec, std::forward<Token>(token));
    }

    /// Reads `samples.size() / channels` interleaved frames into `samples`.
    ///
    /// Completes when the span is full, or early where this reader lost
    /// frames after the ones it read; the read that begins after the gap
    /// reports it (`last_read()`). Check the count.
    ///
    /// Signature: `void(coaudio::error_code, std::size_t frames)`.
    /// Errors: as `async_read_some`, plus `errc::format_mismatch`.
    /// Cancellation: terminal and partial; frames already copied are counted.
    template <sample_type T, std::size_t Extent, class Token = default_token_t<executor_type>>
    auto async_read_frames(std::span<T, Extent> samples, Token&& token = Token{})
    {
        std::error_code ec;
        if (!state_)
            ec = make_error_code(errc::not_open);
        else if (sample_traits<T>::format != state_->params.format)
            ec = make_error_code(errc::format_mismatch);
        else if (samples.size() % std::size_t(state_->params.channels) != 0)
            ec = make_error_code(errc::not_whole_frames);
        const std::size_t frames = ec ? 0 : samples.size() / std::size_t(state_->params.channels);
        return launch<true>(
            detail::interleaved_target<asio::mutable_buffer>{
                asio::buffer(samples.data(), samples.size_bytes()), frames},
            true, ec, std::forward<Token>(token));
    }

private:
    template <bool CountFrames, class Target, class Token>
    auto launch(Target target, bool all, std::error_code precheck, Token&& token)
    {
        return detail::async_compose_untracked<Token, void(error_code, std::size_t)>(
            detail::reader_read_op<Executor, Target, CountFrames>(state_, std::move(target), all,
                                                                  precheck),
            std::forward<Token>(token), ex_);
    }

    executor_type ex_;
    std::shared_ptr<detail::reader_state<Executor>> state_;
};

/// A capture hub on `asio::any_io_executor`.
using capture_hub = basic_capture_hub<>;
/// A capture reader on `asio::any_io_executor`.
using capture_reader = basic_capture_reader<>;

} // namespace coaudio

#endif
