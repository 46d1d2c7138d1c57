// coaudio benchmarks: what the variants, the drivers and the report share.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_BENCH_BENCH_HPP
#define COAUDIO_BENCH_BENCH_HPP

#include "interpose.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#  include <valgrind/callgrind.h>
#  define COAUDIO_BENCH_HAVE_CALLGRIND 1
#  define COAUDIO_BENCH_TOGGLE_COLLECT() CALLGRIND_TOGGLE_COLLECT
#else
#  define COAUDIO_BENCH_TOGGLE_COLLECT() ((void)0)
#endif

namespace bench {

inline constexpr double sample_rate = 48000.0;
/// Every variant buffers this much between the audio thread and the consumer:
/// coaudio's ring, the condition-variable queue's slots.
inline constexpr std::size_t ring_frames = 8192;

inline std::int64_t clock_ns(clockid_t id) noexcept
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
/// CLOCK_MONOTONIC (what steady_clock reads), through the vDSO: about 20 ns.
inline std::int64_t now_ns() noexcept
{
    return clock_ns(CLOCK_MONOTONIC);
}
inline std::int64_t process_cpu_ns() noexcept
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}
inline std::int64_t thread_cpu_ns() noexcept
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/// A block's index travels in its first sample, as raw bits, so the consumer
/// knows which block it holds whatever path the block took.
inline void stamp(float* block, std::uint32_t index) noexcept
{
    std::memcpy(block, &index, sizeof index);
}
inline std::uint32_t stamp_of(const float* block) noexcept
{
    std::uint32_t index;
    std::memcpy(&index, block, sizeof index);
    return index;
}

enum class variant_kind {
    coaudio,        ///< coaudio::input_stream over a stream_core, a coroutine reading blocks
    coaudio_native, ///< coaudio::input_stream opened on PortAudio itself (JACK only)
    asio_post,      ///< the callback posts a lambda holding a copy of the block (io_context with a
                    ///< reactor)
    asio_post_bare, ///< the same on an io_context without any I/O object (its scheduler sleeps on a
                    ///< condvar)
    condvar,        ///< mutex + condition variable queue to a consumer thread
    pa_blocking,    ///< Pa_ReadStream in a consumer thread (JACK only)
    eventfd_floor,  ///< wake a thread through an eventfd watched by epoll, no audio
    futex_floor,    ///< wake a thread through a futex, no audio
    asio_floor, ///< an Asio coroutine awaiting an eventfd (async_wait), no audio: what Asio itself
                ///< costs
};

const char* variant_key(variant_kind k) noexcept;   ///< JSON name
const char* variant_label(variant_kind k) noexcept; ///< table name

/// What the driver and the consumer of one run record. Written by the audio
/// thread (pub, cost, audio_ops, cpu_start) and the consumer thread (recv,
/// io_*, cpu_end); read by the orchestrator after both have been joined.
struct timeline {
    timeline(int block_frames, int blocks, int warmup_blocks)
        : block(block_frames), total(blocks), warmup(warmup_blocks),
          pub(static_cast<std::size_t>(blocks), 0), recv(static_cast<std::size_t>(blocks), 0),
          entry(static_cast<std::size_t>(blocks), 0), cost(static_cast<std::size_t>(blocks), 0)
    {
    }

    const int block;
    const int total;
    const int warmup; ///< blocks [0, warmup) are not measured

    std::vector<std::int64_t> pub;   ///< when the callback had published block i (ns)
    std::vector<std::int64_t> recv;  ///< when the consumer had block i in hand (ns); 0: never
    std::vector<std::int64_t> entry; ///< when the callback body for block i was entered (ns)
    std::vector<std::int64_t> cost;  ///< time spent in the callback body for block i (ns)

    op_counts audio_ops{};                  ///< audio thread, summed over measured callbacks
    std::atomic<std::int64_t> cpu_start{0}; ///< process CPU time after publishing block `warmup`
    std::atomic<std::int64_t> wall_start{0};

    op_counts io_ops{};       ///< consumer thread, from its first measured block to the last
    std::int64_t io_cpu = 0;  ///< consumer thread CPU time over the same window (ns)
    int io_first = -1;        ///< first measured block the consumer saw
    std::int64_t cpu_end = 0; ///< process CPU time when the last block was in hand
    std::int64_t wall_end = 0;

    void mark_done()
    {
        {
            std::lock_guard lock(done_mutex_);
            done_ = true;
        }
        done_cv_.notify_all();
    }
    bool wait_done(std::chrono::steady_clock::time_point deadline)
    {
        std::unique_lock lock(done_mutex_);
        return done_cv_.wait_until(lock, deadline, [&] { return done_; });
    }

private:
    std::mutex done_mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
};

/// What callgrind counts, when the benchmark runs under it (`--tool=callgrind
/// --collect-atstart=no`): nothing, the callback body of measured blocks
/// (audio thread), or the consumer thread from its first measured block to
/// its last.
enum class collect_phase { none, audio, consumer };
extern collect_phase callgrind_phase;

/// The consumer's side of the measurement: call `received` the moment a
/// block is in hand, on the consumer thread.
class consumer_probe {
public:
    explicit consumer_probe(timeline& tl) noexcept : tl_(tl) {}

    /// Records block `index` received at `t`. True when it was the last one.
    bool received(std::uint32_t index, std::int64_t t) noexcept
    {
        if (index >= static_cast<std::uint32_t>(tl_.total) || tl_.recv[index] != 0) return false;
        tl_.recv[index] = t;
        if (!started_ && index >= static_cast<std::uint32_t>(tl_.warmup)) {
            started_ = true;
            first_ = static_cast<int>(index);
            ops0_ = thread_counts();
            cpu0_ = thread_cpu_ns();
            if (callgrind_phase == collect_phase::consumer) COAUDIO_BENCH_TOGGLE_COLLECT();
        }
        if (index + 1 == static_cast<std::uint32_t>(tl_.total)) {
            finish();
            return true;
        }
        return false;
    }

    /// Closes the measurement window (the last block, or giving up). Idempotent.
    void finish() noexcept
    {
        if (finished_) return;
        finished_ = true;
        if (started_) {
            if (callgrind_phase == collect_phase::consumer) COAUDIO_BENCH_TOGGLE_COLLECT();
            tl_.io_ops = thread_counts() - ops0_;
            tl_.io_cpu = thread_cpu_ns() - cpu0_;
            tl_.io_first = first_;
        }
        tl_.cpu_end = process_cpu_ns();
        tl_.wall_end = now_ns();
        tl_.mark_done();
    }

private:
    timeline& tl_;
    bool started_ = false;
    bool finished_ = false;
    int first_ = -1;
    op_counts ops0_{};
    std::int64_t cpu0_ = 0;
};

/// A way of getting a block from the audio callback to a consumer.
class variant {
public:
    virtual ~variant() = default;
    /// Sets up and starts the consumer, which waits for blocks.
    virtual void prepare(timeline& tl) = 0;
    /// The callback body, on the audio thread: hand over one block.
    virtual void publish(const float* block, std::size_t frames) noexcept = 0;
    /// Makes the consumer give up (the run timed out). The driver has stopped.
    virtual void stop() noexcept = 0;
    /// Waits for the consumer thread.
    virtual void join() = 0;
    /// Frames the variant itself dropped (its buffer was full).
    virtual std::uint64_t frames_dropped() const noexcept { return 0; }
};

std::unique_ptr<variant> make_variant(variant_kind k);

/// The synthetic driver runs SCHED_FIFO at this priority when the system
/// allows it, as audio callback threads do; 0 keeps it SCHED_OTHER.
extern int synthetic_rt_priority;
/// --timelines DIR: every driven run writes its timeline there, a block a
/// line (index, callback entry, publication, consumer receipt, in ns of the
/// steady clock), as <run>-<driver>-<block>-<variant>.csv. Empty: none.
extern std::string timeline_dir;
/// Set by the synthetic driver: whether it got the real-time policy.
extern std::atomic<bool> synthetic_rt_granted;

/// One callback: stamps the block, times `publish`, counts its allocations
/// and locks, records when the block was published.
void audio_step(variant& v, timeline& tl, float* block, std::uint32_t index) noexcept;

// ---- runs -------------------------------------------------------------------

enum class driver_kind { synthetic, jack };
const char* driver_name(driver_kind d) noexcept; ///< table and JSON name

struct run_request {
    variant_kind kind = variant_kind::coaudio;
    driver_kind driver = driver_kind::synthetic;
    int block = 256;
    int blocks = 1000; ///< including warm-up
    int warmup = 50;
    int device = -1; ///< PortAudio device for driver_kind::jack
};

inline constexpr double no_figure = std::numeric_limits<double>::quiet_NaN();

/// Median of the values that are numbers; NaN when none is.
inline double median(std::vector<double> v)
{
    std::erase_if(v, [](double x) { return std::isnan(x); });
    if (v.empty()) return no_figure;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// `v` with `decimals` decimals, or a dash for no figure.
inline std::string fmt(double v, int decimals)
{
    if (std::isnan(v)) return "–";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

/// True when `key` is in the comma-separated `list`, or the list is empty
/// (the command line's `--only`: nothing named means everything).
inline bool listed(const std::string& list, const std::string& key)
{
    if (list.empty()) return true;
    return ("," + list + ",").find("," + key + ",") != std::string::npos;
}

/// What one run measured, in the units the report uses.
struct run_record {
    run_request request;
    std::vector<double> latency_us; ///< measured blocks that arrived: recv - pub, in block order
    std::vector<double>
        entry_latency_us;            ///< the same blocks: recv - entry (includes the callback body)
    std::vector<double> cost_us;     ///< measured callbacks
    int consumer_blocks = 0;         ///< blocks in the consumer's window (first measured to last)
    double audio_seconds = 0;        ///< audio delivered inside the CPU window
    double cpu_ms_per_s = no_figure; ///< process CPU ms per second of audio
    double io_cpu_ms_per_s = no_figure; ///< consumer thread CPU ms per second of audio
    double audio_allocs_per_s = no_figure, audio_locks_per_s = no_figure;
    double io_allocs_per_s = no_figure, io_locks_per_s = no_figure;
    std::uint64_t blocks_lost = 0;    ///< measured blocks the consumer never saw
    std::uint64_t frames_dropped = 0; ///< frames the variant's buffer had no room for
    std::uint64_t xruns = 0;          ///< callbacks the host flagged as following lost input
    bool timed_out = false;
    std::string note; ///< why a run could not be made, if it could not
};

/// Runs one variant for `rq.blocks` blocks and summarises it.
run_record run(const run_request& rq);

/// Size of the buffer Pa_ReadStream gets, in samples: PortAudio 19.6's JACK
/// blocking read writes two samples per frame of a mono stream.
inline constexpr int pa_read_overallocation = 2;

} // namespace bench

#endif
