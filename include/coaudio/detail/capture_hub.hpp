// coaudio: the io-side fan-out behind a capture hub: the pump that drains a
// stream, each reader's buffer and gap records, and the reader's read operation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_CAPTURE_HUB_HPP
#define COAUDIO_DETAIL_CAPTURE_HUB_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_base.hpp>
#include <coaudio/detail/stream_params.hpp>
#include <coaudio/detail/transfer_op.hpp>
#include <coaudio/error.hpp>
#include <coaudio/stream_status.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Totals of one capture reader since it was made.
struct reader_counters {
    /// Frames put into the reader's buffer.
    std::uint64_t frames = 0;
    /// Frames the reader lost because its buffer was full (it fell behind).
    std::uint64_t frames_dropped = 0;
    /// Loss events before the reader's data: its own full buffer, and the
    /// stream's overflows (a full ring, a host overrun) while it was attached.
    std::uint64_t overflows = 0;
};

namespace detail {

/// What a capture hub may see of a stream: its io-side state, which it
/// shares as the stream's own operations do.
struct stream_access {
    template <class Executor, direction Dir>
    static std::shared_ptr<stream_impl<Executor>> impl(const stream_base<Executor, Dir>& s)
    {
        return s.impl_;
    }
};

/// Where a piece of a reader's data begins: the ADC time of its first frame
/// and what was lost just before it. The pump writes one for each piece it
/// appends; a read drops those it has passed.
struct reader_mark {
    std::uint64_t position = 0; ///< the reader's frame index of the piece's first frame
    double input_time = 0;      ///< that frame's ADC time; 0 when the host gives none
    std::uint64_t frames_lost = 0;
    std::uint32_t overflows = 0;

    bool is_gap() const noexcept { return overflows != 0 || frames_lost != 0; }
};

template <class Executor>
struct hub_state;

/// One reader's io-side state: a bounded buffer of whole frames with its own
/// cursor, counters and gap records, and the timer a parked read waits on.
/// Shared with a pending read, so that destroying the reader under it leaves
/// the read something valid to complete from.
template <class Executor>
struct reader_state {
    using timer_type =
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, Executor>;

    reader_state(std::shared_ptr<hub_state<Executor>> h, std::size_t capacity_frames)
        : hub(std::move(h)), wake(hub->ex), capacity(std::max<std::size_t>(capacity_frames, 1)),
          params(hub->params), frame_bytes(params.frame_bytes()), sample_rate(params.sample_rate),
          data(capacity * frame_bytes)
    {
    }

    std::size_t available() const noexcept { return static_cast<std::size_t>(write_at - read_at); }

    /// Appends `n` frames that followed what `s` describes; keeps what fits
    /// and drops the newest rest, to be reported before the next frame kept.
    /// Never waits and never touches another reader.
    void append(const std::byte* frames, std::size_t n, const read_status& s)
    {
        counters.overflows += s.overflows;
        pending.frames_lost += s.frames_lost;
        pending.overflows += s.overflows;
        const std::size_t kept = std::min(n, capacity - available());
        const bool gap = pending.is_gap();
        if (kept > 0) {
            marks.push_back({write_at, s.input_time, pending.frames_lost, pending.overflows});
            pending = {};
            dropping = false;
            copy_in(frames, kept);
            counters.frames += kept;
        }
        if (kept < n) {
            if (!dropping) {
                ++pending.overflows;
                ++counters.overflows;
                dropping = true;
            }
            pending.frames_lost += n - kept;
            counters.frames_dropped += n - kept;
        }
        // A parked read holding frames must end at a gap; one waiting for
        // more wakes when they are there.
        if (want > 0 && (available() >= want || (gap && kept > 0))) wake.cancel();
    }

    /// Makes the next read fail with `ec` once it has the frames buffered
    /// before; wakes a parked one.
    void fail(std::error_code ec)
    {
        error = ec;
        wake.cancel();
    }

    void copy_in(const std::byte* from, std::size_t n) noexcept
    {
        const std::size_t at = static_cast<std::size_t>(write_at % capacity);
        const std::size_t first = std::min(n, capacity - at);
        std::memcpy(data.data() + at * frame_bytes, from, first * frame_bytes);
        std::memcpy(data.data(), from + first * frame_bytes, (n - first) * frame_bytes);
        write_at += n;
    }

    /// Copies `n` frames from the cursor to frame `frame` of `target`.
    template <class Target>
    void copy_out(const Target& target, std::size_t frame, std::size_t n)
    {
        const std::size_t at = static_cast<std::size_t>(read_at % capacity);
        const std::size_t first = std::min(n, capacity - at);
        target.move(frame, data.data() + at * frame_bytes, first, frame_bytes, false);
        target.move(frame + first, data.data(), n - first, frame_bytes, false);
        read_at += n;
    }

    /// The mark of the piece the cursor is in, dropping the ones behind it.
    reader_mark* current_mark() noexcept
    {
        while (marks.size() > 1 && marks[1].position <= read_at)
            marks.pop_front();
        return marks.empty() || marks.front().position > read_at ? nullptr : &marks.front();
    }

    /// Frames from the cursor to the next gap, or to the end of the data.
    std::size_t frames_before_gap() const noexcept
    {
        for (const reader_mark& m : marks)
            if (m.position > read_at && m.is_gap())
                return static_cast<std::size_t>(m.position - read_at);
        return available();
    }

    std::shared_ptr<hub_state<Executor>> hub;
    timer_type wake; ///< set to never expire; cancelled to wake the parked read
    std::size_t capacity;
    stream_params params; ///< the stream's input, as every reader sees it
    std::size_t frame_bytes;
    double sample_rate;
    std::vector<std::byte> data;
    std::uint64_t read_at = 0;  ///< frames read since the reader was made
    std::uint64_t write_at = 0; ///< frames kept since the reader was made
    std::deque<reader_mark> marks;
    reader_mark pending;   ///< loss not yet followed by a kept frame
    bool dropping = false; ///< the last frames offered did not fit
    reader_counters counters;
    read_status last_read;
    std::error_code error; ///< for the next read that finds no frames
    std::size_t want = 0;  ///< frames the parked read waits for; 0 when none is parked
    bool busy = false;
    bool cancel_requested = false; ///< `cancel()`, as opposed to the pump's wake
    bool closed = false;           ///< the reader object is gone
};

/// The hub's io-side state: the stream's io state, the scratch block the
/// pump reads into, and the attached readers. Shared with the pump's
/// pending read and with the readers.
template <class Executor>
struct hub_state {
    hub_state(std::shared_ptr<stream_impl<Executor>> i, Executor e)
        : impl(std::move(i)), ex(std::move(e)), params(impl->core->input().params),
          scratch_frames(std::max<std::size_t>(impl->core->input().ring.capacity() / 2, 1)),
          scratch(scratch_frames * params.frame_bytes())
    {
    }

    // A stream moved to another executor type leaves its io state without a core.
    bool usable() const noexcept { return !closed && impl && impl->core && impl->core->is_open(); }

    /// Starts the pump unless it runs: one read of the stream at a time, on
    /// the stream's executor, for as long as it succeeds.
    static void pump(const std::shared_ptr<hub_state>& self)
    {
        if (self->pumping || !self->usable()) return;
        self->pumping = true;
        using machine = read_transfer<interleaved_target<asio::mutable_buffer>>;
        start_transfer_op<true>(self->ex, self->impl,
                                machine({asio::buffer(self->scratch), self->scratch_frames}, false),
                                {}, pump_handler{self});
    }

    struct pump_handler {
        std::shared_ptr<hub_state> self;
        void operator()(error_code e, std::size_t frames) { self->on_read(self, e, frames); }
    };

    void on_read(const std::shared_ptr<hub_state>& self, std::error_code ec, std::size_t frames)
    {
        pumping = false;
        if (closed) return;
        if (frames > 0) {
            const read_status s = impl->last_read;
            for (reader_state<Executor>* r : readers)
                r->append(scratch.data(), frames, s);
        }
        if (!ec) return pump(self);
        if (ec == make_error_code(errc::stalled)) {
            // The stream stays open and may recover: tell the waiting readers, go on.
            for (reader_state<Executor>* r : readers)
                if (r->want > 0) r->fail(ec);
            return pump(self);
        }
        // Each reader gets the error after its data; its next read restarts the pump.
        for (reader_state<Executor>* r : readers)
            r->fail(ec);
    }

    /// Detaches the hub: parked reads complete with `operation_aborted`, the
    /// pump's read is cancelled, and the stream's read is free again.
    void close() noexcept
    {
        closed = true;
        for (reader_state<Executor>* r : readers) {
            if (r->want > 0) r->fail(aborted());
            r->hub.reset(); // hub_state may now go when the pump's read has completed
        }
        readers.clear();
        if (pumping && impl && impl->in_bell) {
            error_code ignored;
            impl->in_bell->cancel(ignored);
        }
        impl.reset(); // the pump's read holds the stream's state until it completes
    }

    std::shared_ptr<stream_impl<Executor>> impl;
    Executor ex;
    stream_params params;
    std::size_t scratch_frames;
    std::vector<std::byte> scratch;
    std::vector<reader_state<Executor>*> readers;
    bool pumping = false;
    bool closed = false;
};

/// A reader's read: copies whole frames from the reader's buffer, stopping
/// at a gap; parks on the reader's timer while the buffer is short. `all`
/// asks for every frame of the target, otherwise one frame or more
/// completes it. Completes with frames, or bytes when `CountFrames` is false,
/// and never inside its initiating function.
template <class Executor, class Target, bool CountFrames>
class reader_read_op {
public:
    reader_read_op(std::shared_ptr<reader_state<Executor>> r, Target target, bool all,
                   std::error_code precheck)
        : r_(std::move(r)), target_(std::move(target)), all_(all), ec_(precheck)
    {
    }

    template <class Self>
    void operator()(Self& self, error_code = {})
    {
        switch (step_) {
        case step::start: start(self); return;
        case step::posted: finish(self); return;
        case step::waiting: resume(self); return;
        }
    }

private:
    enum class step { start, waiting, posted };

    template <class Self>
    void start(Self& self)
    {
        self.reset_cancellation_state(asio::enable_partial_cancellation());
        if (!ec_ && !r_) ec_ = make_error_code(errc::not_open);
        if (!ec_ && r_->busy) ec_ = make_error_code(errc::operation_in_progress);
        if (!ec_ && target_.frames > 0) {
            r_->busy = owns_busy_ = true;
            if (!progress()) return park(self);
        }
        step_ = step::posted;
        asio::defer(std::move(self)); // as transfer_op does (transfer_op.hpp)
    }

    template <class Self>
    void resume(Self& self)
    {
        r_->want = 0;
        // The timer wakes both for the pump and for cancellation; only the
        // latter leaves a mark in the operation's cancellation state.
        if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none ||
            r_->cancel_requested || r_->closed) {
            ec_ = aborted();
            return finish(self);
        }
        if (progress()) return finish(self);
        park(self);
    }

    // Moves what it can. True when the operation is complete (ec_ may say why).
    bool progress()
    {
        reader_state<Executor>& r = *r_;
        while (done_ < target_.frames) {
            if (reader_mark* m = r.current_mark(); m != nullptr && m->position == r.read_at) {
                if (m->is_gap()) {
                    if (done_ > 0) return true; // the gap is the next read's to report
                    status_.frames_lost += m->frames_lost;
                    status_.overflows += m->overflows;
                    m->frames_lost = 0;
                    m->overflows = 0;
                }
            }
            const std::size_t n = std::min(target_.frames - done_, r.frames_before_gap());
            if (n == 0) break;
            if (done_ == 0) status_.input_time = input_time_at_cursor();
            r.copy_out(target_, done_, n);
            done_ += n;
            if (!all_) return true;
        }
        if (done_ == target_.frames) return true;
        if (r.error) {
            // The frames come first; the error goes to the next read.
            if (done_ == 0) ec_ = std::exchange(r.error, {});
            return true;
        }
        if (!r.hub || !r.hub->usable()) {
            if (done_ == 0) ec_ = make_error_code(errc::not_open);
            return true;
        }
        return false;
    }

    double input_time_at_cursor()
    {
        const reader_mark* m = r_->current_mark();
        if (m == nullptr || m->input_time == 0) return 0;
        return m->input_time + double(r_->read_at - m->position) / r_->sample_rate;
    }

    template <class Self>
    void park(Self& self)
    {
        reader_state<Executor>& r = *r_;
        r.want =
            all_ ? std::min(target_.frames - done_, std::max<std::size_t>(r.capacity / 2, 1)) : 1;
        hub_state<Executor>::pump(r.hub); // after an error the pump waits for a reader
        step_ = step::waiting;
        r.wake.expires_at(std::chrono::steady_clock::time_point::max());
        r.wake.async_wait(std::move(self));
    }

    template <class Self>
    void finish(Self& self)
    {
        std::size_t count = done_;
        if (r_ && owns_busy_) {
            r_->busy = false;
            r_->want = 0;
            r_->cancel_requested = false;
            r_->last_read = status_;
            if constexpr (!CountFrames) count *= r_->frame_bytes;
        }
        r_.reset(); // before the handler, as transfer_op does (transfer_op.hpp)
        self.complete(error_code(ec_), count);
    }

    std::shared_ptr<reader_state<Executor>> r_;
    Target target_;
    bool all_;
    std::error_code ec_;
    std::size_t done_ = 0;
    read_status status_{};
    bool owns_busy_ = false;
    step step_ = step::start;
};

} // namespace detail
} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE

#endif
