// coaudio: the lock-free single-producer single-consumer frame ring.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_RING_HPP
#define COAUDIO_RING_HPP

#include <coaudio/detail/namespace.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Two contiguous byte regions that together hold `frames` frames: the part
/// up to the end of the storage and the part wrapped round to its start.
struct ring_regions {
    std::span<std::byte> first;
    std::span<std::byte> second;
    std::size_t frames = 0;
};

/// A wait-free SPSC queue of fixed-size frames.
///
/// One thread produces (`write`, or `prepare_write` + `commit_write`) and one
/// consumes (`read`, or `prepare_read` + `commit_read`). Capacity is a power
/// of two fixed at construction, which is the only allocation. The indices
/// count frames monotonically and are masked on use, so every slot is usable;
/// 64-bit counters do not wrap in any stream's lifetime. Each side's index
/// lives on its own cache line next to a cached copy of the other side's,
/// so the common case touches no shared line.
class frame_ring {
public:
    /// A ring of at least `min_frames` frames of `frame_bytes` bytes each.
    frame_ring(std::size_t min_frames, std::size_t frame_bytes)
        : capacity_(std::bit_ceil(std::max<std::size_t>(min_frames, 1))), mask_(capacity_ - 1),
          frame_bytes_(frame_bytes),
          storage_(std::make_unique<std::byte[]>(capacity_ * frame_bytes))
    {
        if (frame_bytes == 0) throw std::invalid_argument("coaudio::frame_ring: frame_bytes is 0");
    }

    frame_ring(const frame_ring&) = delete;
    frame_ring& operator=(const frame_ring&) = delete;

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t frame_bytes() const noexcept { return frame_bytes_; }

    // ---- producer side -------------------------------------------------

    /// Frames that can be written now. Producer only. Always looks at the
    /// consumer's index: a count from the cache alone could be stale and
    /// make a caller wait for space that is already there.
    std::size_t write_available() noexcept
    {
        const std::uint64_t w = producer_.index.load(std::memory_order_relaxed);
        producer_.cached_other = consumer_.index.load(std::memory_order_acquire);
        return capacity_ - static_cast<std::size_t>(w - producer_.cached_other);
    }

    /// Up to `max_frames` frames of free space, as one or two regions.
    ring_regions prepare_write(std::size_t max_frames) noexcept
    {
        const std::uint64_t w = producer_.index.load(std::memory_order_relaxed);
        std::size_t free = capacity_ - static_cast<std::size_t>(w - producer_.cached_other);
        if (free < max_frames) {
            producer_.cached_other = consumer_.index.load(std::memory_order_acquire);
            free = capacity_ - static_cast<std::size_t>(w - producer_.cached_other);
        }
        return regions(w, std::min(free, max_frames));
    }

    /// Publishes `frames` frames written into the last prepared regions.
    void commit_write(std::size_t frames) noexcept
    {
        const std::uint64_t w = producer_.index.load(std::memory_order_relaxed);
        producer_.index.store(w + frames, std::memory_order_release);
    }

    /// Copies up to `frames` frames from `src`; returns how many fitted.
    std::size_t write(const void* src, std::size_t frames) noexcept
    {
        const ring_regions r = prepare_write(frames);
        const auto* p = static_cast<const std::byte*>(src);
        if (!r.first.empty()) std::memcpy(r.first.data(), p, r.first.size());
        if (!r.second.empty()) std::memcpy(r.second.data(), p + r.first.size(), r.second.size());
        commit_write(r.frames);
        return r.frames;
    }

    /// The producer's monotonic index: frames ever written.
    std::uint64_t write_index() const noexcept
    {
        return producer_.index.load(std::memory_order_relaxed);
    }

    /// Frames readable as the producer sees them (may lag the consumer).
    std::size_t readable_from_producer() const noexcept
    {
        return static_cast<std::size_t>(producer_.index.load(std::memory_order_relaxed) -
                                        consumer_.index.load(std::memory_order_acquire));
    }

    // ---- consumer side -------------------------------------------------

    /// Frames that can be read now. Consumer only. Always looks at the
    /// producer's index, for the same reason as `write_available`.
    std::size_t read_available() noexcept
    {
        const std::uint64_t r = consumer_.index.load(std::memory_order_relaxed);
        consumer_.cached_other = producer_.index.load(std::memory_order_acquire);
        return static_cast<std::size_t>(consumer_.cached_other - r);
    }

    /// Up to `max_frames` readable frames, as one or two regions.
    ring_regions prepare_read(std::size_t max_frames) noexcept
    {
        const std::uint64_t r = consumer_.index.load(std::memory_order_relaxed);
        std::size_t avail = static_cast<std::size_t>(consumer_.cached_other - r);
        if (avail < max_frames) {
            consumer_.cached_other = producer_.index.load(std::memory_order_acquire);
            avail = static_cast<std::size_t>(consumer_.cached_other - r);
        }
        return regions(r, std::min(avail, max_frames));
    }

    /// Releases `frames` frames read from the last prepared regions.
    void commit_read(std::size_t frames) noexcept
    {
        const std::uint64_t r = consumer_.index.load(std::memory_order_relaxed);
        consumer_.index.store(r + frames, std::memory_order_release);
    }

    /// Copies up to `frames` frames into `dst`; returns how many were there.
    std::size_t read(void* dst, std::size_t frames) noexcept
    {
        const ring_regions r = prepare_read(frames);
        auto* p = static_cast<std::byte*>(dst);
        if (!r.first.empty()) std::memcpy(p, r.first.data(), r.first.size());
        if (!r.second.empty()) std::memcpy(p + r.first.size(), r.second.data(), r.second.size());
        commit_read(r.frames);
        return r.frames;
    }

    /// The consumer's monotonic index: frames ever read.
    std::uint64_t read_index() const noexcept
    {
        return consumer_.index.load(std::memory_order_relaxed);
    }

    /// Free frames as the consumer sees them (may lag the producer).
    std::size_t writable_from_consumer() const noexcept
    {
        return capacity_ -
               static_cast<std::size_t>(producer_.index.load(std::memory_order_acquire) -
                                        consumer_.index.load(std::memory_order_relaxed));
    }

private:
    ring_regions regions(std::uint64_t index, std::size_t frames) const noexcept
    {
        const std::size_t start = static_cast<std::size_t>(index) & mask_;
        const std::size_t first = std::min(frames, capacity_ - start);
        std::byte* base = storage_.get();
        return {{base + start * frame_bytes_, first * frame_bytes_},
                {base, (frames - first) * frame_bytes_},
                frames};
    }

    static constexpr std::size_t line = 64;
    struct alignas(line) side {
        std::atomic<std::uint64_t> index{0};
        std::uint64_t cached_other = 0; // this side's last view of the other index
    };
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

    const std::size_t capacity_;
    const std::size_t mask_;
    const std::size_t frame_bytes_;
    std::unique_ptr<std::byte[]> storage_;
    side producer_;
    side consumer_;
};

} // namespace coaudio

#endif
