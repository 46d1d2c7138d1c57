// coaudio: the io-side state of a stream and the operation that moves frames.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_IMPL_HPP
#define COAUDIO_DETAIL_STREAM_IMPL_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_core.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// The Asio object that waits on a doorbell: a stream descriptor watched for
/// readability on POSIX, an object handle watched for the signalled state on
/// Windows. The only two places that differ are this alias and
/// `async_wait_bell`; doorbell.hpp holds the rest.
#if defined(_WIN32)
template <class Executor>
using bell_waiter = asio::windows::basic_object_handle<Executor>;
#else
template <class Executor>
using bell_waiter = asio::posix::basic_stream_descriptor<Executor>;
#endif

/// Starts waiting for the doorbell behind `waiter` to ring.
template <class Executor, class Handler>
void async_wait_bell(bell_waiter<Executor>& waiter, Handler&& handler)
{
#if defined(_WIN32)
    waiter.async_wait(std::forward<Handler>(handler));
#else
    waiter.async_wait(asio::posix::descriptor_base::wait_read, std::forward<Handler>(handler));
#endif
}

/// What the io side owns: the core, and an Asio waiter on each direction's
/// doorbell. Shared with pending operations so that closing or destroying
/// the stream while one is parked leaves it something valid to complete
/// from.
template <class Executor>
struct stream_impl {
    using descriptor = bell_waiter<Executor>;

    stream_impl(const Executor& ex, std::shared_ptr<stream_core> c)
        : core(std::move(c)), watchdog(ex)
    {
        if (has_input(core->dir())) in_bell.emplace(ex, core->input().bell.waiter_handle());
        if (has_output(core->dir())) out_bell.emplace(ex, core->output().bell.waiter_handle());
    }
    stream_impl(const stream_impl&) = delete;
    stream_impl& operator=(const stream_impl&) = delete;
    ~stream_impl() { close(); }

    /// Cancels pending waits, then closes the PortAudio stream. The doorbell
    /// descriptors belong to the core, so Asio gives them back instead of
    /// closing them (on Windows the waiters close their own duplicates).
    void close() noexcept
    {
        release_bells();
        watchdog.cancel();
        if (core) core->close();
    }

    void release_bells() noexcept
    {
#if defined(_WIN32)
        error_code ignored;
        if (in_bell && in_bell->is_open()) in_bell->close(ignored);
        if (out_bell && out_bell->is_open()) out_bell->close(ignored);
#else
        if (in_bell && in_bell->is_open()) in_bell->release();
        if (out_bell && out_bell->is_open()) out_bell->release();
#endif
    }

    void cancel(std::error_code& ec)
    {
        error_code e; // the flavour's own: Boost.Asio reports a boost::system::error_code
        if (in_bell) in_bell->cancel(e);
        if (!e && out_bell) out_bell->cancel(e);
        ec = e;
    }

    /// While an operation is parked, looks every `watchdog_period` for a
    /// PortAudio stream that died without a callback, so the operation fails
    /// instead of hanging, and, with a stall timeout, for callbacks that
    /// stopped coming. Armed lazily and left to expire once nothing is
    /// parked, so a read loop costs no timer syscalls per block; the price is
    /// that `run()` may return up to one period late.
    static void arm_watchdog(const std::shared_ptr<stream_impl>& self)
    {
        const auto stall = self->stall_timeout();
        if (self->watchdog_armed || (self->core->native_handle() == nullptr && stall.count() == 0))
            return;
        // Callbacks are counted from when an operation first waits.
        self->seen_callbacks = self->core->callbacks();
        self->seen_at = std::chrono::steady_clock::now();
        watch(self);
    }

    static void watch(const std::shared_ptr<stream_impl>& self)
    {
        const auto stall = self->stall_timeout();
        self->watchdog_armed = true;
        self->watchdog.expires_after(
            stall.count() == 0
                ? watchdog_period
                : std::clamp(stall / 4, std::chrono::milliseconds(5), watchdog_period));
        self->watchdog.async_wait([self](std::error_code ec) {
            self->watchdog_armed = false;
            if (ec || !self->core->is_open()) return;
            self->core->check_alive();
            self->check_stall();
            if (self->read_busy || self->write_busy) watch(self);
        });
    }

    static constexpr std::chrono::milliseconds watchdog_period{200};

    std::chrono::milliseconds stall_timeout() const noexcept
    {
        return core->params().stall_timeout;
    }

    /// Completes the parked operations with `errc::stalled` when a running
    /// stream has had no callback for the stall timeout.
    void check_stall() noexcept
    {
        const auto stall = stall_timeout();
        if (stall.count() == 0) return;
        const auto now = std::chrono::steady_clock::now();
        const std::uint64_t n = core->callbacks();
        const run_state s = core->state();
        if (n != seen_callbacks || (s != run_state::running && s != run_state::draining)) {
            seen_callbacks = n;
            seen_at = now;
            return;
        }
        if (now - seen_at < stall) return;
        ++stall_epoch; // the parked operations see it when they wake
        seen_at = now;
        core->mark_stalled(); // and stop() does not wait for a drain that cannot come
        core->wake_waiters();
    }

    std::shared_ptr<stream_core> core;
    std::optional<descriptor> in_bell;
    std::optional<descriptor> out_bell;
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>
        watchdog;
    bool watchdog_armed = false;
    std::uint64_t seen_callbacks = 0;                ///< callbacks at the watchdog's last look
    std::chrono::steady_clock::time_point seen_at{}; ///< when that count last changed
    std::uint64_t stall_epoch = 0;                   ///< stalls detected so far
    bool read_busy = false;                          ///< one read outstanding
    bool write_busy = false;                         ///< one write or drain outstanding
    read_status last_read;                           ///< what the last completed read found
    write_status last_write;                         ///< what the last completed write learned
};

/// Calls `fn(pointer, length)` for the byte range [offset, offset + length)
/// of a buffer sequence, one contiguous piece at a time.
template <class Buffers, class Fn>
void for_each_piece(const Buffers& buffers, std::size_t offset, std::size_t length, Fn&& fn)
{
    auto it = asio::buffer_sequence_begin(buffers);
    const auto end = asio::buffer_sequence_end(buffers);
    for (; it != end && length > 0; ++it) {
        const auto b = *it;
        if (offset >= b.size()) {
            offset -= b.size();
            continue;
        }
        const std::size_t n = std::min(b.size() - offset, length);
        fn(static_cast<std::byte*>(const_cast<void*>(static_cast<const void*>(b.data()))) + offset,
           n);
        length -= n;
        offset = 0;
    }
}

/// The caller's side of a transfer: interleaved bytes in an Asio buffer
/// sequence. `move(frame, ring, frames, frame_bytes, to_ring)` copies
/// `frames` whole frames between the ring and the caller's frame `frame`.
template <class Buffers>
struct interleaved_target {
    Buffers buffers;
    std::size_t frames;

    void move(std::size_t frame, std::byte* ring, std::size_t n, std::size_t fb, bool to_ring) const
    {
        for_each_piece(buffers, frame * fb, n * fb, [&](std::byte* user, std::size_t len) {
            if (to_ring)
                std::memcpy(ring, user, len);
            else
                std::memcpy(user, ring, len);
            ring += len;
        });
    }
};

/// The caller's side of a transfer: one span per channel (non-interleaved),
/// each `frames` samples long; the ring stays interleaved.
template <class T>
struct planar_target {
    std::span<const std::span<T>> channels;
    std::size_t frames;

    void move(std::size_t frame, std::byte* ring, std::size_t n, std::size_t fb, bool to_ring) const
    {
        const std::size_t sb = fb / channels.size();
        for (std::size_t f = 0; f < n; ++f)
            for (std::size_t ch = 0; ch < channels.size(); ++ch) {
                std::byte* slot = ring + f * fb + ch * sb;
                auto* user = reinterpret_cast<std::byte*>(
                    const_cast<std::remove_const_t<T>*>(channels[ch].data() + frame + f));
                if (to_ring)
                    std::memcpy(slot, user, sb);
                else
                    std::memcpy(user, slot, sb);
            }
    }
};

/// The first `frames` frames of `r`.
inline ring_regions first_frames(const ring_regions& r, std::size_t frames,
                                 std::size_t frame_bytes) noexcept
{
    const std::size_t bytes = frames * frame_bytes;
    if (bytes <= r.first.size()) return {r.first.first(bytes), {}, frames};
    return {r.first, r.second.first(bytes - r.first.size()), frames};
}

enum class transfer_kind { read, write, drain };

/// The one composed operation behind every read, write and drain.
///
/// Moves whole frames between a direction's ring and the caller's target;
/// when the ring cannot satisfy it, parks on that direction's doorbell (an Asio
/// descriptor wait, so handler allocation, work tracking and cancellation
/// are Asio's). `all` asks for every frame of the target; otherwise one frame
/// or more completes it, as `read_some`/`write_some` do. Completes with a
/// count of frames, or of bytes when `CountFrames` is false. It never
/// completes inside its initiating function.
template <class Executor, class Target, transfer_kind Kind, bool CountFrames>
class transfer_op {
    static constexpr bool reading = Kind == transfer_kind::read;

public:
    transfer_op(std::shared_ptr<stream_impl<Executor>> impl, Target target, bool all,
                std::error_code precheck)
        : impl_(std::move(impl)), target_(std::move(target)), all_(all), ec_(precheck)
    {
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec = {})
    {
        switch (step_) {
        case step::start: start(self); return;
        case step::posted: finish(self); return;
        case step::waiting: resume(self, ec); return;
        }
    }

private:
    enum class step { start, waiting, posted };

    direction_bridge& chan() const noexcept
    {
        return reading ? impl_->core->input() : impl_->core->output();
    }
    bool& busy() const noexcept { return reading ? impl_->read_busy : impl_->write_busy; }
    typename stream_impl<Executor>::descriptor& bell() const noexcept
    {
        return reading ? *impl_->in_bell : *impl_->out_bell;
    }

    template <class Self>
    void start(Self& self)
    {
        self.reset_cancellation_state(asio::enable_partial_cancellation());
        if (!ec_) ec_ = check();
        if (impl_) stall_epoch_ = impl_->stall_epoch;
        if (!ec_ && (Kind == transfer_kind::drain || target_.frames > 0)) {
            busy() = owns_busy_ = true;
            if constexpr (reading) status_.input_time = impl_->core->input().input_time_here();
            if constexpr (Kind == transfer_kind::write)
                wstatus_.output_time = impl_->core->output().output_time_here();
            if (!progress()) return park(self);
        }
        step_ = step::posted;
        asio::post(std::move(self)); // to the stream's executor, the operation's own
    }

    template <class Self>
    void resume(Self& self, std::error_code ec)
    {
        if (!impl_->core->is_open() || ec == aborted()) {
            // Closed, or cancelled: cancellation reaches a parked operation
            // through the descriptor wait, which Asio completes this way.
            ec_ = aborted();
            return finish(self);
        }
        if (ec) {
            ec_ = ec;
            return finish(self);
        }
        if (impl_->stall_epoch != stall_epoch_) {
            ec_ = make_error_code(errc::stalled);
            return finish(self);
        }
        chan().bell.drain();
        if (progress()) return finish(self);
        park(self);
    }

    std::error_code check() const
    {
        if (!impl_ || !impl_->core->is_open()) return make_error_code(errc::not_open);
        if (busy()) return make_error_code(errc::operation_in_progress);
        return {};
    }

    // Moves what it can. True when the operation is complete (ec_ may say why).
    bool progress()
    {
        stream_core& core = *impl_->core;
        direction_bridge& c = chan();
        if constexpr (Kind == transfer_kind::drain) {
            core.request_drain();
            const run_state s = core.state();
            if (s == run_state::finished) return true;
            if (s == run_state::stopped) {
                // Nothing will play: done if nothing is queued, stuck otherwise.
                if (c.ring.write_available() != c.ring.capacity()) ec_ = core.halt_reason();
                return true;
            }
            if (core.will_not_progress(c)) {
                ec_ = core.halt_reason();
                return true;
            }
            return false;
        } else {
            const std::size_t fb = c.params.frame_bytes();
            for (;;) {
                std::size_t room = target_.frames - done_;
                if (room == 0) return true;
                ring_regions r;
                if constexpr (reading) {
                    r = c.ring.prepare_read(room);
                    // Gaps are looked at after the ring, once: the acquire in
                    // prepare_read makes every gap published before those
                    // frames visible, so none is missed or met early. A gap is
                    // reported at the start of a read, so a read that already
                    // holds frames ends where the gap begins.
                    const std::uint64_t at = c.ring.read_index();
                    const gap* g = c.gaps.front();
                    if (g != nullptr && g->position == at) {
                        if (done_ > 0) return true;
                        status_.frames_lost += g->frames;
                        status_.overflows += g->events;
                        c.gaps.pop();
                        g = c.gaps.front();
                    }
                    if (g != nullptr && g->position > at && g->position - at < r.frames)
                        r = first_frames(r, static_cast<std::size_t>(g->position - at), fb);
                } else {
                    r = c.ring.prepare_write(room);
                }
                if (r.frames == 0) break;
                const std::size_t first = r.first.size() / fb;
                target_.move(done_, r.first.data(), first, fb, !reading);
                target_.move(done_ + first, r.second.data(), r.frames - first, fb, !reading);
                if constexpr (reading)
                    c.ring.commit_read(r.frames);
                else
                    c.ring.commit_write(r.frames);
                done_ += r.frames;
                if (!all_) return true;
            }
            if (core.will_not_progress(c)) {
                ec_ = core.halt_reason();
                return true;
            }
            return false;
        }
    }

    template <class Self>
    void park(Self& self)
    {
        direction_bridge& c = chan();
        std::size_t want = c.ring.capacity() + 1; // drain: only the finish ring wakes it
        if constexpr (Kind != transfer_kind::drain)
            want = all_ ? std::min(target_.frames - done_, wake_point(c)) : 1;
        if (!impl_->core->park(c, want)) {
            if (!progress()) return park(self);
            if (step_ != step::start) return finish(self);
            // Still inside the initiating function: complete through a post.
            step_ = step::posted;
            return asio::post(std::move(self));
        }
        step_ = step::waiting;
        stream_impl<Executor>::arm_watchdog(impl_);
        async_wait_bell<Executor>(bell(), std::move(self));
    }

    // The most frames a parked transfer waits for. A transfer larger than
    // this copies in parts, waking each time half the ring is ready: waiting
    // for a full (input) or empty (output) ring would leave the callback no
    // room for its next block, and frames would be lost while the reader
    // keeps up. The parts stay one operation with one completion.
    static std::size_t wake_point(const direction_bridge& c) noexcept
    {
        return std::max<std::size_t>(c.ring.capacity() / 2, 1);
    }

    template <class Self>
    void finish(Self& self)
    {
        std::size_t count = done_; // frames, or bytes for the Asio stream operations
        if (impl_ && owns_busy_) {
            direction_bridge& c = chan();
            impl_->core->unpark(c);
            busy() = false;
            if constexpr (!CountFrames) count *= c.params.frame_bytes();
            if constexpr (reading) {
                impl_->last_read = status_;
                if (!ec_ && status_.overflows != 0 && c.params.overflow_is_error)
                    ec_ = make_error_code(errc::input_overflow);
            }
            if constexpr (Kind == transfer_kind::write) impl_->last_write = wstatus_;
        }
        auto impl = std::move(impl_); // keep the core alive until the handler has run
        if constexpr (Kind == transfer_kind::drain)
            self.complete(error_code(ec_));
        else
            self.complete(error_code(ec_), count);
    }

    // No executor of its own: async_compose was given the stream's, and a
    // posted step goes there. (Every byte here moves with each wait.)
    std::shared_ptr<stream_impl<Executor>> impl_;
    Target target_;
    bool all_;
    std::error_code ec_;
    std::size_t done_ = 0;
    read_status status_{};
    write_status wstatus_{};
    bool owns_busy_ = false;
    std::uint64_t stall_epoch_ = 0; ///< the stream's stall count when this operation began
    step step_ = step::start;
};

} // namespace coaudio::detail

#endif
