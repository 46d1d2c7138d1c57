// Test support: a ramp played out and checked on its way back, bit for bit.
#ifndef COAUDIO_TESTS_SUPPORT_RAMP_HPP
#define COAUDIO_TESTS_SUPPORT_RAMP_HPP

#include <coaudio/config.hpp>
#include <coaudio/stream_status.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace test {

/// Sample `i` of the ramp: never 0, so that silence is never taken for it,
/// and exact in float, so that a float32 path returns it bit for bit.
inline float ramp_sample(std::uint64_t i)
{
    return float((i & 0x7fffffu) + 1) / float(1u << 24);
}

/// The ramp index of `x`, whose low 23 bits are known exactly.
inline std::uint64_t ramp_index(float x)
{
    return static_cast<std::uint64_t>(x * float(1u << 24)) - 1;
}

/// Writes `total` frames of the mono ramp in transfers of `chunk` frames,
/// or until the stream fails.
template <class Stream>
asio::awaitable<void> write_ramp(Stream& s, std::size_t chunk, std::uint64_t total)
{
    std::vector<float> buf(chunk);
    for (std::uint64_t at = 0; at < total;) {
        for (std::size_t i = 0; i < chunk; ++i)
            buf[i] = ramp_sample(at + i);
        at += co_await s.async_write_frames(std::span(buf), asio::use_awaitable);
    }
}

/// What a reader of the ramp found.
struct ramp_check {
    std::uint64_t frames = 0;     ///< frames read
    std::uint64_t leading = 0;    ///< frames of silence before the first ramp frame
    std::uint64_t checked = 0;    ///< ramp frames compared after the first one
    std::uint64_t mismatches = 0; ///< frames that were not the next ramp sample
    std::uint64_t gaps = 0;       ///< reads that reported lost frames before their data
    std::uint64_t ring_lost = 0;  ///< frames those reads said the full ring dropped
    std::uint64_t short_reads = 0;
    coaudio::stream_counters before; ///< the stream's counters when the check began
};

/// What the counters counted since `before`.
inline coaudio::stream_counters counted_since(const coaudio::stream_counters& now,
                                              const coaudio::stream_counters& before)
{
    return {.frames = now.frames - before.frames,
            .overflows = now.overflows - before.overflows,
            .frames_dropped = now.frames_dropped - before.frames_dropped,
            .host_overflows = now.host_overflows - before.host_overflows,
            .underflows = now.underflows - before.underflows,
            .silence_frames = now.silence_frames - before.silence_frames,
            .host_underflows = now.host_underflows - before.host_underflows};
}

/// Reads `reads * chunk` mono frames in transfers of `chunk` frames, and
/// checks that, after the leading silence, every frame is the ramp sample
/// after the one before. A read ends early where frames were lost (the next
/// read reports the gap); the check then starts over from the frame after
/// the gap, and the gap is counted. With a `gate`, reads and discards what
/// arrives until `*gate` is true, and starts then.
template <class Stream>
asio::awaitable<ramp_check> read_ramp(Stream& s, std::size_t chunk, std::size_t reads,
                                      const bool* gate)
{
    ramp_check out;
    std::vector<float> buf(chunk);
    while (gate != nullptr && !*gate)
        co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
    out.before = s.counters();
    bool synced = false;
    std::uint64_t expect = 0;
    while (out.frames < std::uint64_t(chunk) * reads) {
        const std::size_t n = co_await s.async_read_frames(std::span(buf), asio::use_awaitable);
        out.frames += n;
        if (n < chunk) ++out.short_reads;
        if (s.last_read().discontinuous()) {
            ++out.gaps;
            out.ring_lost += s.last_read().frames_lost;
            synced = false;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const float x = buf[i];
            if (!synced) {
                if (x == 0.0f) { // silence before the ramp arrives
                    if (out.checked == 0) ++out.leading;
                    continue;
                }
                synced = true;
                expect = ramp_index(x) + 1;
                continue;
            }
            ++out.checked;
            if (x != ramp_sample(expect)) {
                ++out.mismatches;
                if (x != 0.0f) expect = ramp_index(x); // follow the ramp, count once
            }
            ++expect;
        }
    }
    co_return out;
}

/// One stream's ramp transfers: `reads` reads of `chunk` frames, with a
/// writer one transfer ahead; what the reader found, and the stream's
/// counters as they were when it finished.
struct ramp_transfer {
    unsigned long block = 0;
    std::size_t chunk = 0;
    std::size_t reads = 0;
    std::optional<ramp_check> result;
    std::exception_ptr error;
    coaudio::stream_counters counters;
};

/// The transfer sizes that matter against a ring of `ring` frames at `rate`:
/// one second, `seconds` at once, and one and a half rings.
inline std::vector<std::size_t> transfer_sizes(double rate, double seconds, std::size_t ring)
{
    return {std::size_t(rate), std::size_t(rate * seconds), ring + ring / 2};
}

/// A transfer of `chunk` frames repeated for about `seconds` at `rate`.
inline ramp_transfer make_transfer(unsigned long block, std::size_t chunk, double rate,
                                   double seconds)
{
    ramp_transfer t;
    t.block = block;
    t.chunk = chunk;
    t.reads = static_cast<std::size_t>(std::ceil(rate * seconds / double(chunk)));
    return t;
}

/// Starts the writer and the reader of `t` on the started stream `s` (a
/// duplex stream whose output comes back to its input; `gate` as for
/// `read_ramp`). The writer keeps writing after the reader has finished,
/// until the stream is stopped, which the caller does once every transfer
/// has finished: a stop is a PortAudio call that may block the io thread for
/// a period, and would starve the transfers still running.
template <class Stream>
void spawn_ramp(asio::io_context& io, Stream& s, ramp_transfer& t, const bool* gate = nullptr)
{
    // The writer ends with an error when the stream stops under it: expected.
    asio::co_spawn(io, write_ramp(s, t.chunk, std::numeric_limits<std::uint64_t>::max()),
                   [](std::exception_ptr) {});
    asio::co_spawn(io, read_ramp(s, t.chunk, t.reads, gate),
                   [&s, &t](std::exception_ptr e, ramp_check c) {
                       t.error = e;
                       t.result = c;
                       t.counters = counted_since(s.counters(), c.before);
                   });
}

/// True when every transfer of `ts` has its result.
template <class Transfers>
bool all_finished(const Transfers& ts)
{
    for (const auto& t : ts)
        if (!t.result) return false;
    return true;
}

/// Runs `io` until every transfer has its result, or for `limit`.
template <class Transfers>
bool run_transfers(asio::io_context& io, Transfers& ts, std::chrono::seconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!all_finished(ts) && std::chrono::steady_clock::now() < deadline)
        io.run_one_until(deadline);
    return all_finished(ts);
}

/// One line of figures for a finished transfer.
inline void print_transfer(const char* where, const ramp_transfer& t)
{
    const ramp_check c = t.result.value_or(ramp_check{});
    std::printf("%s: block %4lu, transfers of %6zu frames: %7llu read, %7llu checked, %llu "
                "mismatched, %llu dropped, "
                "%llu underflows, %llu host overflows\n",
                where, t.block, t.chunk, static_cast<unsigned long long>(c.frames),
                static_cast<unsigned long long>(c.checked),
                static_cast<unsigned long long>(c.mismatches),
                static_cast<unsigned long long>(t.counters.frames_dropped),
                static_cast<unsigned long long>(t.counters.underflows),
                static_cast<unsigned long long>(t.counters.host_overflows));
}

} // namespace test

#endif
