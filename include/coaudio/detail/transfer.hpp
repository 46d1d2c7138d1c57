// coaudio: reads, writes and drains as small state machines, with no I/O of their own.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_TRANSFER_HPP
#define COAUDIO_DETAIL_TRANSFER_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/asio_forward.hpp>
#include <coaudio/detail/stream_core.hpp>
#include <coaudio/stream_status.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

// Every block passes through `copy` and `wait_or_end` once or twice. Left out
// of line (as GCC leaves them), with the copy loop shared between read and
// write through a callback, the consumer paid about 90 instructions a block
// more than the single composed operation before the machines (callgrind,
// coaudio_bench's synthetic driver); as written here, 8 more (0.3%).
#if defined(__GNUC__) || defined(__clang__)
#  define COAUDIO_DETAIL_HOT_INLINE [[gnu::always_inline]] inline
#elif defined(_MSC_VER)
#  define COAUDIO_DETAIL_HOT_INLINE __forceinline
#else
#  define COAUDIO_DETAIL_HOT_INLINE inline
#endif

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

// The machines here know the rings, the gap records and the run state, and
// nothing of Asio: no executor, no doorbell wait, no handler. The composed
// operation in transfer_op.hpp drives them, as Boost.MySQL's sans-io
// algorithms are driven: it calls `resume` and does what the answer says,
// parking on the doorbell until `want` frames are ready, or completing.
// Posting, so that nothing completes inside an initiating function, is the
// driver's business: only it knows where it was called from.

/// What a transfer asks of its driver: complete, complete with the error
/// the stream's run state gives (`stream_core::halt_reason`: the frames will
/// not move), or park until `want` frames are ready. No error_code is built
/// on the way: constructing one calls into the standard library each time.
struct next_action {
    enum class type { done, halted, park };
    type what = type::done;
    std::size_t want = 0; ///< park: the frames to wait for

    static next_action finished() noexcept { return {type::done, 0}; }
    static next_action halted() noexcept { return {type::halted, 0}; }
    static next_action park_until(std::size_t frames) noexcept { return {type::park, frames}; }
    bool done() const noexcept { return what != type::park; }
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

/// What read and write share: the caller's target, how much of it is done,
/// and when a parked transfer wants to be woken.
template <class Target>
class frame_transfer {
public:
    frame_transfer(Target target, bool all) : target_(std::move(target)), all_(all) {}

    /// True for a transfer of no frames, which completes at once with 0.
    bool empty() const noexcept { return target_.frames == 0; }
    /// Frames moved so far.
    std::size_t frames() const noexcept { return done_; }

protected:
    // Copies the regions `r` between the ring and the target.
    COAUDIO_DETAIL_HOT_INLINE void copy(const ring_regions& r, std::size_t fb, bool to_ring)
    {
        const std::size_t first = r.first.size() / fb;
        target_.move(done_, r.first.data(), first, fb, to_ring);
        target_.move(done_ + first, r.second.data(), r.frames - first, fb, to_ring);
        done_ += r.frames;
    }

    // The answer once the ring has nothing more for this transfer now.
    COAUDIO_DETAIL_HOT_INLINE next_action wait_or_end(const stream_core& core,
                                                      const direction_bridge& c) const
    {
        if (core.will_not_progress(c)) return next_action::halted();
        return next_action::park_until(all_ ? std::min(target_.frames - done_, wake_point(c)) : 1);
    }

    // The most frames a parked transfer waits for. A transfer larger than
    // this copies in parts, waking each time half the ring is ready: waiting
    // for a full (input) or empty (output) ring would leave the callback no
    // room for its next block, and frames would be lost while the caller
    // keeps up. The parts stay one operation with one completion.
    static std::size_t wake_point(const direction_bridge& c) noexcept
    {
        return std::max<std::size_t>(c.ring.capacity() / 2, 1);
    }

    Target target_;
    bool all_;
    std::size_t done_ = 0;
};

/// A read: frames from the input ring into the target. `all` asks for every
/// frame of the target; otherwise one frame or more completes it. The gap
/// protocol's consumer half lives here (the producer half is
/// `capture_block` in block_copy.hpp): a gap is reported at the start of a read, so a
/// read that already holds frames ends where a gap begins.
template <class Target>
class read_transfer : public frame_transfer<Target> {
    using base = frame_transfer<Target>;

public:
    using base::base;
    static constexpr bool has_count = true; ///< completes with a count
    static constexpr bool input = true;     ///< works on the input ring

    /// Nothing to note yet: `resume` dates the first frame when it copies
    /// it, and `conclude` a read that copied none. Dated here, a read that
    /// parks where a gap begins would date its first frame from the frames
    /// before the gap.
    void begin(stream_core&) noexcept {}

    next_action resume(stream_core& core)
    {
        direction_bridge& c = core.input();
        const std::size_t fb = c.params.frame_bytes();
        for (;;) {
            const std::size_t room = this->target_.frames - this->done_;
            if (room == 0) return next_action::finished();
            ring_regions r = c.ring.prepare_read(room);
            // Gaps are looked at after the ring, once: the acquire in
            // prepare_read makes every gap published before those frames
            // visible, so none is missed or met early.
            const std::uint64_t at = c.ring.read_index();
            const gap* g = c.gaps.front();
            if (g != nullptr && g->position == at) {
                if (this->done_ > 0) return next_action::finished();
                status_.frames_lost += g->frames;
                status_.overflows += g->events;
                c.gaps.pop();
                g = c.gaps.front();
            }
            if (g != nullptr && g->position > at && g->position - at < r.frames)
                r = first_frames(r, static_cast<std::size_t>(g->position - at), fb);
            if (r.frames == 0) break;
            if (this->done_ == 0) status_.input_time = c.input_time_here(); // see begin
            this->copy(r, fb, false);
            c.ring.commit_read(r.frames);
            if (!this->all_) return next_action::finished();
        }
        return this->wait_or_end(core, c);
    }

    /// Leaves what the read found in the stream's `last_read`, and turns an
    /// overflow into `errc::input_overflow` where the stream asks for that.
    template <class Stream>
    void conclude(Stream& stream, std::error_code& ec) const noexcept
    {
        stream.last_read = status_;
        if (this->done_ == 0) stream.last_read.input_time = stream.core->input().input_time_here();
        if (!ec && status_.overflows != 0 && stream.core->input().params.overflow_is_error)
            ec = make_error_code(errc::input_overflow);
    }

private:
    read_status status_{};
};

/// A write: frames from the target into the output ring. `all` as for reads.
template <class Target>
class write_transfer : public frame_transfer<Target> {
    using base = frame_transfer<Target>;

public:
    using base::base;
    static constexpr bool has_count = true; ///< completes with a count
    static constexpr bool input = false;

    /// Notes when the first frame is expected at the DAC. Called once, before `resume`.
    void begin(stream_core& core) noexcept
    {
        status_.output_time = core.output().output_time_here();
    }

    next_action resume(stream_core& core)
    {
        direction_bridge& c = core.output();
        const std::size_t fb = c.params.frame_bytes();
        for (;;) {
            const std::size_t room = this->target_.frames - this->done_;
            if (room == 0) return next_action::finished();
            const ring_regions r = c.ring.prepare_write(room);
            if (r.frames == 0) break;
            this->copy(r, fb, true);
            c.ring.commit_write(r.frames);
            if (!this->all_) return next_action::finished();
        }
        return this->wait_or_end(core, c);
    }

    /// Leaves what the write learned in the stream's `last_write`.
    template <class Stream>
    void conclude(Stream& stream, std::error_code&) const noexcept
    {
        stream.last_write = status_;
    }

private:
    write_status status_{};
};

/// A drain: asks the callback to finish once the queued output has played,
/// and waits for that. Only the finish rings its doorbell.
class drain_transfer {
public:
    static constexpr bool has_count = false;
    static constexpr bool input = false;

    bool empty() const noexcept { return false; }
    std::size_t frames() const noexcept { return 0; }
    void begin(stream_core&) noexcept {}

    next_action resume(stream_core& core)
    {
        direction_bridge& c = core.output();
        core.request_drain();
        const run_state s = core.state();
        if (s == run_state::finished) return next_action::finished();
        if (s == run_state::stopped) {
            // Nothing will play: done if nothing is queued, stuck otherwise.
            if (c.ring.write_available() != c.ring.capacity()) return next_action::halted();
            return next_action::finished();
        }
        if (core.will_not_progress(c)) return next_action::halted();
        return next_action::park_until(c.ring.capacity() + 1);
    }

    template <class Stream>
    void conclude(Stream&, std::error_code&) const noexcept
    {
    }
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
