// coaudio: the lock-free hand-offs from the audio thread to the io thread.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_LOCKFREE_HPP
#define COAUDIO_DETAIL_LOCKFREE_HPP

#include <coaudio/detail/namespace.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// A counter with one writer (the audio thread) and any number of readers:
/// a plain load and store, no read-modify-write on the hot path.
class single_writer_counter {
public:
    void add(std::uint64_t n) noexcept
    {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A small fixed-capacity SPSC queue of trivially copyable records, for the
/// facts the audio thread publishes ahead of the frames they describe.
template <class T, std::size_t N>
class record_queue {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    bool push(const T& v) noexcept
    {
        const std::uint64_t t = tail_.load(std::memory_order_relaxed);
        if (t - head_.load(std::memory_order_acquire) == N) return false;
        slots_[t % N] = v;
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    const T* front() noexcept
    {
        const std::uint64_t h = head_.load(std::memory_order_relaxed);
        if (h == tail_.load(std::memory_order_acquire)) return nullptr;
        return &slots_[h % N];
    }
    void pop() noexcept
    {
        head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

private:
    std::array<T, N> slots_{};
    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint64_t> tail_{0};
};

/// A gap in the captured data: frames lost just before ring position `position`.
struct gap {
    std::uint64_t position = 0;
    std::uint64_t frames = 0;
    std::uint32_t events = 0;
};

/// When the frame at ring position `position` met the converter (ADC or DAC
/// time, on the stream's clock).
struct time_mark {
    std::uint64_t position = 0;
    double time = 0;
};

/// The latest time mark, written by the audio thread and read by the io
/// thread without locks: a sequence counter around two atomics.
class time_anchor {
public:
    void store(std::uint64_t position, double time) noexcept
    {
        const std::uint64_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        position_.store(position, std::memory_order_relaxed);
        time_.store(time, std::memory_order_relaxed);
        seq_.store(s + 2, std::memory_order_release);
    }
    /// Forgets the mark. Only while no callback runs.
    void reset() noexcept { seq_.store(0, std::memory_order_relaxed); }

    std::optional<time_mark> load() const noexcept
    {
        for (int attempt = 0; attempt < 16; ++attempt) {
            const std::uint64_t s1 = seq_.load(std::memory_order_acquire);
            if (s1 == 0) return std::nullopt;
            const time_mark m{position_.load(std::memory_order_relaxed),
                              time_.load(std::memory_order_relaxed)};
            std::atomic_thread_fence(std::memory_order_acquire);
            if ((s1 & 1) == 0 && seq_.load(std::memory_order_relaxed) == s1) return m;
        }
        return std::nullopt;
    }

private:
    std::atomic<std::uint64_t> seq_{0};
    std::atomic<std::uint64_t> position_{0};
    std::atomic<double> time_{0};
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
