// coaudio: the io-side state of a stream and the operations that move frames.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_IMPL_HPP
#define COAUDIO_DETAIL_STREAM_IMPL_HPP

#include <coaudio/config.hpp>
#include <coaudio/detail/stream_core.hpp>

#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/posix/basic_stream_descriptor.hpp>

#include <chrono>

#include <cstring>
#include <memory>

namespace coaudio::detail {

/// What the io side owns: the core and the doorbell's Asio descriptor.
/// Shared with pending operations so that closing or destroying the stream
/// while one is parked leaves it something valid to complete from.
template <class Executor>
struct stream_impl {
    stream_impl(const Executor& ex, std::unique_ptr<stream_core> c)
        : core(std::move(c)), bell(ex, core->bell().native_handle()), watchdog(ex)
    {
    }
    stream_impl(const stream_impl&) = delete;
    stream_impl& operator=(const stream_impl&) = delete;
    ~stream_impl() { close(); }

    /// Cancels pending waits, then closes the PortAudio stream. The doorbell
    /// descriptor belongs to the core, so Asio gives it back instead of closing it.
    void close() noexcept
    {
        if (bell.is_open()) bell.release();
        watchdog.cancel();
        if (core) core->close();
    }

    /// While an operation is parked on a PortAudio stream, looks every
    /// `watchdog_period` for a stream that died without a callback, so the
    /// operation fails instead of hanging. Armed lazily and left to expire
    /// once nothing is parked, so a read loop costs no timer syscalls per
    /// block; the price is that `run()` may return up to one period late.
    static void arm_watchdog(const std::shared_ptr<stream_impl>& self)
    {
        if (self->watchdog_armed || self->core->native_handle() == nullptr) return;
        self->watchdog_armed = true;
        self->watchdog.expires_after(watchdog_period);
        self->watchdog.async_wait([self](std::error_code ec) {
            self->watchdog_armed = false;
            if (ec || !self->core->is_open()) return;
            self->core->check_alive();
            if (self->busy) arm_watchdog(self);
        });
    }

    static constexpr std::chrono::milliseconds watchdog_period{200};

    std::unique_ptr<stream_core> core;
    asio::posix::basic_stream_descriptor<Executor> bell;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>
        watchdog;
    bool watchdog_armed = false;
    bool busy = false;     ///< one transfer (read, or write/drain) outstanding
    read_status last_read; ///< input: what the last completed read found
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
        fn(static_cast<std::byte*>(const_cast<void*>(static_cast<const void*>(b.data()))) + offset, n);
        length -= n;
        offset = 0;
    }
}

enum class transfer_kind { read, write, drain };

/// The one composed operation behind every read, write and drain.
///
/// Moves whole frames between the ring and the caller's buffers; when the
/// ring cannot satisfy it, parks on the doorbell (an Asio descriptor wait, so
/// handler allocation, work tracking and cancellation are Asio's). `all`
/// asks for every frame the buffers hold; otherwise one frame or more
/// completes it, as `read_some`/`write_some` do. It never completes inside
/// its initiating function.
template <class Executor, class Buffers, transfer_kind Kind, bool CountFrames = false>
class transfer_op {
public:
    transfer_op(const Executor& ex, std::shared_ptr<stream_impl<Executor>> impl, const Buffers& buffers,
                std::size_t bytes, bool all, std::error_code precheck)
        : ex_(ex), impl_(std::move(impl)), buffers_(buffers), bytes_(bytes), all_(all), ec_(precheck)
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

    template <class Self>
    void start(Self& self)
    {
        self.reset_cancellation_state(asio::enable_partial_cancellation());
        if (!ec_) ec_ = check();
        if (!ec_ && bytes_ > 0) {
            impl_->busy = owns_busy_ = true;
            if (!progress()) return park(self);
        }
        step_ = step::posted;
        asio::post(ex_, std::move(self));
    }

    template <class Self>
    void resume(Self& self, std::error_code ec)
    {
        if (!impl_->core->is_open()) {
            ec_ = asio::error::operation_aborted;
            return finish(self);
        }
        // Cancellation reaches a parked operation through the descriptor wait,
        // which Asio completes with operation_aborted.
        if (ec == asio::error::operation_aborted) {
            ec_ = asio::error::operation_aborted;
            return finish(self);
        }
        if (ec) {
            ec_ = ec;
            return finish(self);
        }
        impl_->core->bell().drain();
        if (progress()) return finish(self);
        park(self);
    }

    std::error_code check() const
    {
        if (!impl_ || !impl_->core->is_open()) return make_error_code(errc::not_open);
        if (impl_->busy) return make_error_code(errc::operation_in_progress);
        if constexpr (Kind != transfer_kind::drain) {
            if (bytes_ != 0 && bytes_ < impl_->core->params().frame_bytes())
                return make_error_code(errc::not_whole_frames);
        }
        return {};
    }

    // Moves what it can. True when the operation is complete (ec_ may say why).
    bool progress()
    {
        stream_core& core = *impl_->core;
        if constexpr (Kind == transfer_kind::drain) {
            core.request_drain();
            if (core.state() == run_state::finished) return true;
            if (core.will_not_progress()) {
                if (core.state() != run_state::stopped || core.ready() != core.ring().capacity())
                    ec_ = core.halt_reason();
                return true;
            }
            return false;
        } else {
            const std::size_t fb = core.params().frame_bytes();
            const std::size_t frames = bytes_ / fb;
            for (;;) {
                std::size_t room = frames - done_;
                if (room == 0) return true;
                if constexpr (Kind == transfer_kind::read) {
                    // A gap is reported at the start of a read, so a read that
                    // already holds frames ends where the gap begins.
                    if (done_ > 0 && core.gap_here()) return true;
                    room = core.take_gap(status_, room);
                    const ring_regions r = core.ring().prepare_read(room);
                    copy(r, [](std::byte* user, std::byte* ring, std::size_t n) { std::memcpy(user, ring, n); });
                    core.ring().commit_read(r.frames);
                    done_ += r.frames;
                    if (r.frames == 0) break;
                } else {
                    const ring_regions r = core.ring().prepare_write(room);
                    copy(r, [](std::byte* user, std::byte* ring, std::size_t n) { std::memcpy(ring, user, n); });
                    core.ring().commit_write(r.frames);
                    done_ += r.frames;
                    if (r.frames == 0) break;
                }
                if (!all_) return true;
            }
            if (done_ > 0 && !all_) return true;
            if (core.will_not_progress()) {
                ec_ = core.halt_reason();
                return true;
            }
            return false;
        }
    }

    // Copies between the ring regions and the caller's buffers at the current offset.
    template <class CopyFn>
    void copy(const ring_regions& r, CopyFn fn)
    {
        std::size_t offset = done_ * impl_->core->params().frame_bytes();
        for (std::span<std::byte> region : {r.first, r.second}) {
            std::byte* ring_ptr = region.data();
            for_each_piece(buffers_, offset, region.size(), [&](std::byte* user, std::size_t n) {
                fn(user, ring_ptr, n);
                ring_ptr += n;
            });
            offset += region.size();
        }
    }

    template <class Self>
    void park(Self& self)
    {
        stream_core& core = *impl_->core;
        std::size_t want = core.ring().capacity() + 1; // drain: only the finish ring wakes it
        if constexpr (Kind != transfer_kind::drain) {
            const std::size_t left = bytes_ / core.params().frame_bytes() - done_;
            want = all_ ? std::min(left, core.ring().capacity()) : 1;
        }
        if (!core.park(want)) {
            if (progress()) return finish(self);
            return park(self);
        }
        step_ = step::waiting;
        stream_impl<Executor>::arm_watchdog(impl_);
        impl_->bell.async_wait(asio::posix::descriptor_base::wait_read, std::move(self));
    }

    template <class Self>
    void finish(Self& self)
    {
        if (impl_ && owns_busy_) {
            impl_->core->unpark();
            impl_->busy = false;
            if constexpr (Kind == transfer_kind::read) {
                impl_->last_read = status_;
                if (!ec_ && status_.overflows != 0 && impl_->core->params().overflow_is_error)
                    ec_ = make_error_code(errc::input_overflow);
            }
        }
        std::size_t count = done_; // frames, or bytes for the Asio stream operations
        if constexpr (!CountFrames && Kind != transfer_kind::drain) {
            if (impl_) count *= impl_->core->params().frame_bytes();
        }
        auto impl = std::move(impl_); // keep the core alive until the handler has run
        if constexpr (Kind == transfer_kind::drain)
            self.complete(ec_);
        else
            self.complete(ec_, count);
    }

    Executor ex_;
    std::shared_ptr<stream_impl<Executor>> impl_;
    Buffers buffers_;
    std::size_t bytes_;
    bool all_;
    std::error_code ec_;
    std::size_t done_ = 0;
    read_status status_{};
    bool owns_busy_ = false;
    step step_ = step::start;
};

} // namespace coaudio::detail

#endif
