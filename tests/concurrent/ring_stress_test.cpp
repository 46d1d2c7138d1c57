// coaudio tests: the SPSC frame ring between two real threads. Every frame
// carries its sequence number and a checksum pattern; the consumer checks that
// each arrives exactly once, in order, intact.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/ring.hpp>

#include "support/catch.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#  define COAUDIO_TEST_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define COAUDIO_TEST_TSAN 1
#  endif
#endif

namespace {

using coaudio::frame_ring;
using coaudio::ring_regions;

#if defined(COAUDIO_TEST_TSAN)
constexpr std::uint64_t total_frames = 1'000'000;
#else
constexpr std::uint64_t total_frames = 3'000'000;
#endif
// Whatever the frame count, neither thread runs longer than this: a stuck ring
// then fails the test instead of hanging it. An idle machine takes about a
// second; a shared CI machine with both cores busy elsewhere has been seen to
// need 25, hence the margin.
constexpr auto time_limit = std::chrono::seconds(180);

// Frame layout: 8-byte sequence number, then (frame_bytes - 8) bytes derived from it.
std::uint8_t check_byte(std::uint64_t seq, std::size_t i)
{
    const std::uint64_t x = (seq ^ (seq >> 17)) * 0x9E3779B97F4A7C15ull + i * 0x2545F4914F6CDD1Dull;
    return static_cast<std::uint8_t>(x >> 56);
}

void write_frame(std::byte* p, std::uint64_t seq, std::size_t fb)
{
    std::memcpy(p, &seq, sizeof seq);
    for (std::size_t i = sizeof seq; i < fb; ++i)
        p[i] = static_cast<std::byte>(check_byte(seq, i));
}

// Returns the sequence number; sets `intact` false when the pattern does not match it.
std::uint64_t read_frame(const std::byte* p, std::size_t fb, bool& intact)
{
    std::uint64_t seq;
    std::memcpy(&seq, p, sizeof seq);
    for (std::size_t i = sizeof seq; i < fb; ++i)
        if (p[i] != static_cast<std::byte>(check_byte(seq, i))) intact = false;
    return seq;
}

struct result {
    std::uint64_t received = 0;
    std::uint64_t out_of_order = 0; // frames whose sequence number was not the next expected
    std::uint64_t corrupt = 0;
    std::uint64_t first_bad_seq = ~0ull;
    bool producer_finished = false;
    bool consumer_finished = false;
    std::uint64_t producer_waits = 0; // ring full seen by the producer
    std::uint64_t consumer_waits = 0; // ring empty seen by the consumer
};

result run(std::size_t ring_frames, std::size_t fb, std::size_t max_chunk, std::uint64_t seed)
{
    frame_ring ring(ring_frames, fb);
    result res;
    std::atomic<bool> abandon{false};
    const auto deadline = std::chrono::steady_clock::now() + time_limit;

    std::thread producer([&] {
        std::mt19937_64 rng(seed);
        std::vector<std::byte> chunk(max_chunk * fb);
        std::uint64_t seq = 0;
        std::uint64_t waits = 0;
        while (seq < total_frames) {
            if (abandon.load(std::memory_order_relaxed)) return;
            const std::size_t want = std::min<std::uint64_t>(
                std::uniform_int_distribution<std::size_t>(1, max_chunk)(rng), total_frames - seq);
            std::size_t done;
            if (rng() & 1) { // copying API
                for (std::size_t f = 0; f < want; ++f)
                    write_frame(chunk.data() + f * fb, seq + f, fb);
                done = ring.write(chunk.data(), want);
            } else { // regions, written in place, committed partly
                const ring_regions r = ring.prepare_write(want);
                const std::size_t in_first = r.first.size() / fb;
                done = r.frames == 0 ? 0
                                     : std::uniform_int_distribution<std::size_t>(1, r.frames)(rng);
                for (std::size_t f = 0; f < done; ++f) {
                    std::byte* p = f < in_first ? r.first.data() + f * fb
                                                : r.second.data() + (f - in_first) * fb;
                    write_frame(p, seq + f, fb);
                }
                ring.commit_write(done);
            }
            seq += done;
            if (done == 0) {
                ++waits;
                if ((waits & 63) == 0 && std::chrono::steady_clock::now() > deadline) return;
                std::this_thread::yield();
            }
        }
        res.producer_waits = waits;
        res.producer_finished = true;
    });

    std::thread consumer([&] {
        std::mt19937_64 rng(seed ^ 0xABCDEF);
        std::vector<std::byte> chunk(max_chunk * fb);
        std::uint64_t expected = 0;
        std::uint64_t waits = 0;
        auto check = [&](const std::byte* p) {
            bool intact = true;
            const std::uint64_t seq = read_frame(p, fb, intact);
            if (!intact) {
                ++res.corrupt;
                if (res.first_bad_seq == ~0ull) res.first_bad_seq = expected;
            }
            if (seq != expected) {
                ++res.out_of_order;
                if (res.first_bad_seq == ~0ull) res.first_bad_seq = expected;
            }
            ++expected;
        };
        while (expected < total_frames) {
            const std::size_t want = std::uniform_int_distribution<std::size_t>(1, max_chunk)(rng);
            std::size_t done;
            if (rng() & 1) {
                done = ring.read(chunk.data(), want);
                for (std::size_t f = 0; f < done; ++f)
                    check(chunk.data() + f * fb);
            } else {
                const ring_regions r = ring.prepare_read(want);
                const std::size_t in_first = r.first.size() / fb;
                done = r.frames == 0 ? 0
                                     : std::uniform_int_distribution<std::size_t>(1, r.frames)(rng);
                for (std::size_t f = 0; f < done; ++f)
                    check(f < in_first ? r.first.data() + f * fb
                                       : r.second.data() + (f - in_first) * fb);
                ring.commit_read(done);
            }
            if (done == 0) {
                ++waits;
                if ((waits & 63) == 0 && std::chrono::steady_clock::now() > deadline) break;
                std::this_thread::yield();
            }
        }
        res.received = expected;
        res.consumer_waits = waits;
        res.consumer_finished = expected == total_frames;
        // Nothing may follow the last frame.
        if (ring.read_available() != 0) ++res.out_of_order;
        abandon.store(true, std::memory_order_relaxed);
    });

    producer.join();
    consumer.join();
    return res;
}

void check(const result& r)
{
    INFO("received " << r.received << " first bad sequence number " << r.first_bad_seq
                     << " producer waits " << r.producer_waits << " consumer waits "
                     << r.consumer_waits);
    CHECK(r.producer_finished);
    CHECK(r.consumer_finished);
    CHECK(r.received == total_frames);
    CHECK(r.out_of_order == 0);
    CHECK(r.corrupt == 0);
}

} // namespace

TEST_CASE("ring stress: 16-byte frames, small ring, chunks up to the capacity",
          "[ring][concurrent]")
{
    check(run(256, 16, 256, 1));
}

TEST_CASE("ring stress: 12-byte frames (unaligned to the ring's end), chunks past the capacity",
          "[ring][concurrent]")
{
    check(run(100, 12, 200, 2)); // capacity 128
}

TEST_CASE("ring stress: 40-byte frames, large ring, small chunks", "[ring][concurrent]")
{
    check(run(4096, 40, 17, 3));
}
