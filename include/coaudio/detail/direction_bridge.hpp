// coaudio: one direction's half of the bridge between the audio thread and the io thread.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_DIRECTION_BRIDGE_HPP
#define COAUDIO_DETAIL_DIRECTION_BRIDGE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/doorbell.hpp>
#include <coaudio/detail/lockfree.hpp>
#include <coaudio/detail/stream_params.hpp>
#include <coaudio/ring.hpp>
#include <coaudio/sample_format.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// One direction (input or output) of a stream, as the audio thread and the
/// io thread share it. The members are grouped by who touches them, so that
/// the type says what the comments used to:
///   - `params` and `silence`: settled before the first callback, then read
///     by both threads;
///   - the hand-offs (`ring`, `parked`, `bell`, `gaps`, `times`, `dac`):
///     lock-free, one producer and one consumer each;
///   - `published`: written by the audio thread only, read by any thread;
///   - `audio`: the audio thread's alone;
///   - `io`: the io thread's alone.
class direction_bridge {
public:
    direction_bridge(const stream_params& p, std::size_t ring_frames)
        : params(p), silence(silence_byte(p.format)),
          ring(ring_size(ring_frames, p), p.frame_bytes())
    {
    }

    // ---- settled before callbacks run; read by both threads -------------

    stream_params params;
    const std::byte silence;

    // ---- the hand-offs: lock-free, one producer and one consumer each ---

    /// The frames. Input: the audio thread writes, the io thread reads;
    /// output: the other way round.
    frame_ring ring;
    /// Rung by the audio thread (and by the io side's `wake`), drained by the
    /// io thread's parked operation.
    doorbell bell;
    /// The frames a parked io operation waits for, 0 when none: set by the
    /// io thread, taken (swapped to 0) by whichever side wakes it.
    alignas(64) std::atomic<std::size_t> parked{0};
    /// Input: gaps and ADC times, pushed by the audio thread before the
    /// frames they precede, popped by the io thread.
    record_queue<gap, 64> gaps;
    record_queue<time_mark, 256> times;
    /// Output: the DAC time of the frame at the consumer's position, stored
    /// by the audio thread, loaded by the io thread.
    time_anchor dac;

    // ---- written by the audio thread only, read by any thread -----------

    struct audio_published {
        // Totals.
        single_writer_counter frames, overflows, frames_dropped, host_overflows;
        single_writer_counter underflows, silence_frames, host_underflows;
        // What the host really does, for `current_params`: the frames of the
        // last callback and the latency its timestamps showed, stored only
        // when they change.
        std::atomic<unsigned long> host_block{0};
        std::atomic<double> host_latency{0};
        static_assert(std::atomic<unsigned long>::is_always_lock_free &&
                      std::atomic<double>::is_always_lock_free);
    } published;

    // ---- private to one thread ------------------------------------------

    struct audio_private {
        gap pending{};       ///< input: frames lost since the last gap was published
        bool primed = false; ///< output: a frame has been played (silence before it is pre-roll)
    } audio;

    struct io_private {
        time_mark last_time{}; ///< input: the last ADC mark consumed
    } io;

    // ---- audio thread -----------------------------------------------------

    /// Rings the doorbell if a parked operation wanted no more than `ready`
    /// frames. Both sides use read-modify-writes on `parked`, so either this
    /// one sees the want, or the io side's exchange synchronises with it and
    /// its re-check sees the frames just published.
    void notify(std::size_t ready) noexcept
    {
        std::size_t want = parked.fetch_add(0, std::memory_order_acq_rel);
        if (want != 0 && ready >= want &&
            parked.compare_exchange_strong(want, 0, std::memory_order_acq_rel))
            bell.ring();
    }

    /// Notes the callback's frames and the latency its timestamps show (0: none).
    void observe(unsigned long block, double latency) noexcept
    {
        if (published.host_block.load(std::memory_order_relaxed) != block)
            published.host_block.store(block, std::memory_order_relaxed);
        if (latency > 0 && latency <= max_plausible_latency &&
            published.host_latency.load(std::memory_order_relaxed) != latency)
            published.host_latency.store(latency, std::memory_order_relaxed);
    }

    // ---- any thread -------------------------------------------------------

    /// Wakes a parked operation unconditionally, so that it looks again.
    void wake() noexcept
    {
        parked.store(0, std::memory_order_relaxed);
        bell.ring();
    }

    /// The parameters, with what the host does filled in once callbacks have run.
    stream_params current_params() const noexcept
    {
        stream_params p = params;
        if (const unsigned long b = published.host_block.load(std::memory_order_relaxed); b != 0)
            p.frames_per_block = b;
        if (p.latency == 0) p.latency = published.host_latency.load(std::memory_order_relaxed);
        return p;
    }

    // ---- io thread --------------------------------------------------------

    /// Input: the ADC time of the frame at the consumer's position, from the
    /// mark of the callback that captured it; 0 when the host gives none.
    double input_time_here() noexcept
    {
        const std::uint64_t r = ring.read_index();
        while (const time_mark* m = times.front()) {
            if (m->position > r) break;
            io.last_time = *m;
            times.pop();
        }
        if (io.last_time.time == 0.0 && io.last_time.position == 0) return 0.0;
        return io.last_time.time + double(r - io.last_time.position) / params.sample_rate;
    }

    /// Output: when the frame that the next write queues is expected at the
    /// DAC, extrapolated from the last callback's mark; 0 before the first.
    double output_time_here() noexcept
    {
        const auto m = dac.load();
        if (!m || m->time == 0.0) return 0.0;
        const std::uint64_t w = ring.write_index();
        return m->time + (double(w) - double(m->position)) / params.sample_rate;
    }

private:
    static std::size_t ring_size(std::size_t requested, const stream_params& p)
    {
        if (requested != 0) return requested;
        const auto tenth = static_cast<std::size_t>(p.sample_rate / 10);
        return std::max<std::size_t>({tenth, 4 * std::size_t{p.frames_per_block}, 256});
    }
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
