// coaudio tests: the bridge between a driver thread and the io_context, without
// PortAudio. A plain thread plays the audio callback through stream_core::process
// (and stream_core::finished, as PortAudio's finished callback would); readers and
// writers are coroutines on a real io_context.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/input_stream.hpp>
#include <coaudio/output_stream.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <span>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#  define COAUDIO_TEST_SLOW 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#    define COAUDIO_TEST_SLOW 1
#  endif
#endif

namespace {

namespace cd = coaudio::detail;
using namespace std::chrono_literals;
using sample = std::int32_t;
using asio::use_awaitable;

#if defined(COAUDIO_TEST_SLOW)
constexpr std::uint64_t lost_wakeup_blocks = 20'000;
constexpr std::uint64_t stress_blocks = 20'000;
#else
constexpr std::uint64_t lost_wakeup_blocks = 100'000;
constexpr std::uint64_t stress_blocks = 100'000;
#endif
// A bound no healthy run comes near; a stuck operation fails the test instead of hanging it.
constexpr auto watchdog = 30s;

cd::stream_params make_params(int channels, unsigned long block,
                              coaudio::sample_format format = coaudio::sample_format::int32)
{
    cd::stream_params p;
    p.channels = channels;
    p.format = format;
    p.sample_rate = 48000;
    p.frames_per_block = block;
    return p;
}

// The test signal: a counting ramp over interleaved samples, never zero so that
// silence is told apart from data.
sample ramp(std::uint64_t frame, int channel, int channels)
{
    return static_cast<sample>(
        (frame * static_cast<std::uint64_t>(channels) + static_cast<std::uint64_t>(channel)) %
            0x7FFFFFF0u +
        1);
}

void fill_ramp(sample* out, std::uint64_t first_frame, std::size_t frames, int channels)
{
    for (std::size_t f = 0; f < frames; ++f)
        for (int c = 0; c < channels; ++c)
            out[f * channels + c] = ramp(first_frame + f, c, channels);
}

// Checks that consecutive chunks continue the ramp; counts instead of CHECKing
// every sample, so millions of samples cost one assertion.
struct ramp_checker {
    int channels = 1;
    std::uint64_t next = 0; // frame index expected next
    std::uint64_t bad = 0;
    std::uint64_t first_bad = ~0ull;

    void check(const sample* s, std::size_t frames)
    {
        for (std::size_t f = 0; f < frames; ++f, ++next)
            for (int c = 0; c < channels; ++c)
                if (s[f * channels + c] != ramp(next, c, channels)) {
                    if (bad++ == 0) first_bad = next;
                }
    }
};

// A thread playing the audio callback; stopped and joined on destruction, so a
// failing REQUIRE never leaves it running.
class driver_thread {
public:
    template <class F>
    explicit driver_thread(F f) : thread_([this, f = std::move(f)]() mutable { f(stop_); })
    {
    }
    driver_thread(const driver_thread&) = delete;
    driver_thread& operator=(const driver_thread&) = delete;
    ~driver_thread()
    {
        stop_.store(true);
        join();
    }
    // Asks the driver to return at its next look.
    void stop() noexcept { stop_.store(true); }
    // Waits for the driver to finish on its own.
    void join()
    {
        if (thread_.joinable()) thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// An io_context and a started stream over a core that the test drives.
template <class Stream, cd::direction Dir>
struct rig {
    asio::io_context io;
    Stream stream{io.get_executor()};
    cd::stream_core* driver = nullptr;

    rig(const cd::stream_params& p, std::size_t ring_frames, bool start = true)
    {
        auto core = std::make_unique<cd::stream_core>(Dir, p, ring_frames);
        driver = core.get();
        coaudio::detail::core_access::open(stream, std::move(core));
        if (start) stream.start();
    }

    // Runs `aw` until it returns or `limit` passes. True when it returned;
    // rethrows what it threw (a failed REQUIRE inside it included).
    bool run(asio::awaitable<void> aw, std::chrono::steady_clock::duration limit = watchdog)
    {
        return test::run_for(io, std::move(aw), limit);
    }
};
using input_rig = rig<coaudio::input_stream, cd::direction::input>;
using output_rig = rig<coaudio::output_stream, cd::direction::output>;

// Produces `blocks` ramp blocks into an input core. With `max_lead` > 0 it
// stays at most that many frames ahead of `consumed` (frames the reader has
// finished with), so a reader that misses a wake-up stalls the driver too and
// the watchdog catches it: a free-running driver would hide the loss behind its
// next block. Without `consumed` it only keeps the ring from holding more than
// `max_lead` frames, so that nothing is dropped however long a read is.
void produce_ramp(cd::stream_core* d, std::uint64_t first_block, std::uint64_t blocks,
                  std::size_t block, int channels, std::uint64_t max_lead,
                  const std::atomic<std::uint64_t>* consumed, const std::atomic<bool>& stop)
{
    std::vector<sample> buf(block * channels);
    for (std::uint64_t b = first_block; b < first_block + blocks; ++b) {
        if (max_lead != 0) {
            auto ahead = [&] {
                return consumed != nullptr
                           ? (b + 1) * block > consumed->load(std::memory_order_acquire) + max_lead
                           : d->ring().readable_from_producer() + block > max_lead;
            };
            while (ahead()) {
                if (stop.load(std::memory_order_relaxed)) return;
                std::this_thread::yield();
            }
        }
        if (stop.load(std::memory_order_relaxed)) return;
        fill_ramp(buf.data(), b * block, block, channels);
        d->process(buf.data(), nullptr, block, 0);
    }
}

// ---- coroutines ----
// Written as free functions or capture-less lambdas taking references: a
// capturing lambda coroutine would outlive its captures. And never co_await
// inside a Catch2 macro (the assertion handler would live across the suspension;
// with GCC 12 the coroutine then never finishes): await first, then REQUIRE.

// Reads `total` frames in reads of `frames_per_read`, alternating typed and byte reads
// when `mixed`, and publishes progress through `consumed`.
asio::awaitable<void> read_ramp(coaudio::input_stream& in, ramp_checker& chk, std::uint64_t total,
                                std::size_t frames_per_read, bool read_some,
                                std::atomic<std::uint64_t>* consumed, std::uint64_t* lost)
{
    const int ch = chk.channels;
    std::vector<sample> buf(frames_per_read * ch);
    while (chk.next < total) {
        const std::size_t want = std::min<std::uint64_t>(frames_per_read, total - chk.next);
        std::size_t got;
        if (read_some) {
            const std::size_t bytes = co_await in.async_read_some(
                asio::buffer(buf.data(), want * ch * sizeof(sample)), use_awaitable);
            REQUIRE(bytes % (ch * sizeof(sample)) == 0);
            got = bytes / (ch * sizeof(sample));
        } else {
            got = co_await in.async_read_frames(std::span(buf.data(), want * ch), use_awaitable);
        }
        REQUIRE(got >= 1);
        REQUIRE(got <= want);
        if (lost) *lost += in.last_read().frames_lost;
        chk.check(buf.data(), got);
        if (consumed) consumed->store(chk.next, std::memory_order_release);
    }
}

} // namespace

// =====================================================================================
// Input
// =====================================================================================

TEST_CASE("bridge/input: reads deliver the captured ramp in order, whatever their size",
          "[bridge][input]")
{
    static constexpr int ch = 2;
    static constexpr std::size_t block = 64;
    static constexpr std::uint64_t blocks = 400;
    input_rig r(make_params(ch, block), 1024);
    std::atomic<std::uint64_t> consumed{0};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        produce_ramp(r.driver, 0, blocks, block, ch, 1024, nullptr, stop);
    });

    struct ctx {
        coaudio::input_stream& in;
        ramp_checker chk;
        std::atomic<std::uint64_t>& consumed;
        std::uint64_t lost = 0;
        std::uint64_t reads = 0;
    } c{r.stream, {ch}, consumed};

    auto reader = [](ctx& c) -> asio::awaitable<void> {
        // Sizes below, at and above the block and the ring; odd ones to split frames across reads.
        const std::size_t sizes[] = {1, 7, 64, 100, 3, 256, 1024, 2000, 63, 65};
        std::vector<sample> buf(2000 * ch);
        for (std::size_t i = 0; c.chk.next < blocks * block; ++i) {
            const std::size_t want =
                std::min<std::uint64_t>(sizes[i % std::size(sizes)], blocks * block - c.chk.next);
            std::size_t got;
            if (i % 3 == 2) {
                got = co_await c.in.async_read_some(
                          asio::buffer(buf.data(), want * ch * sizeof(sample)), use_awaitable) /
                      (ch * sizeof(sample));
            } else {
                got = co_await c.in.async_read_frames(std::span(buf.data(), want * ch),
                                                      use_awaitable);
                // A typed read completes full unless frames were lost, and none are here.
                REQUIRE(got == want);
            }
            REQUIRE(got >= 1);
            c.lost += c.in.last_read().frames_lost;
            c.chk.check(buf.data(), got);
            c.consumed.store(c.chk.next, std::memory_order_release);
            ++c.reads;
        }
    };
    REQUIRE(r.run(reader(c)));
    driver.join();

    INFO("first bad frame " << c.chk.first_bad);
    CHECK(c.chk.bad == 0);
    CHECK(c.chk.next == blocks * block);
    CHECK(c.lost == 0);
    const coaudio::stream_counters n = r.stream.counters();
    CHECK(n.frames == blocks * block);
    CHECK(n.frames_dropped == 0);
    CHECK(n.overflows == 0);
    CHECK(r.stream.frames_available() == 0);
}

TEST_CASE("bridge/input: a read parked before any data is woken by the driver", "[bridge][input]")
{
    static constexpr std::size_t block = 16;
    input_rig r(make_params(1, block), 256);
    std::atomic<bool> completed{false};
    std::atomic<int> completed_before_data{0};

    SECTION("a typed read waits for all its frames, delivered in four blocks")
    {
        driver_thread driver([&](const std::atomic<bool>&) {
            std::vector<sample> buf(block);
            for (int b = 0; b < 4; ++b) {
                std::this_thread::sleep_for(20ms); // long enough for the reader to park
                if (completed.load()) ++completed_before_data;
                fill_ramp(buf.data(), b * block, block, 1);
                r.driver->process(buf.data(), nullptr, block, 0);
            }
        });
        auto reader = [](coaudio::input_stream& in,
                         std::atomic<bool>& completed) -> asio::awaitable<void> {
            std::vector<sample> buf(4 * block);
            const std::size_t got = co_await in.async_read_frames(std::span(buf), use_awaitable);
            completed = true;
            REQUIRE(got == 4 * block);
            ramp_checker chk{1};
            chk.check(buf.data(), got);
            REQUIRE(chk.bad == 0);
        };
        REQUIRE(r.run(reader(r.stream, completed), 10s));
        driver.join();
        CHECK(completed_before_data == 0);
    }

    SECTION("read_some completes with the first block")
    {
        driver_thread driver([&](const std::atomic<bool>&) {
            std::this_thread::sleep_for(30ms);
            if (completed.load()) ++completed_before_data;
            std::vector<sample> buf(block);
            fill_ramp(buf.data(), 0, block, 1);
            r.driver->process(buf.data(), nullptr, block, 0);
        });
        auto reader = [](coaudio::input_stream& in,
                         std::atomic<bool>& completed) -> asio::awaitable<void> {
            std::vector<sample> buf(1000);
            const std::size_t bytes = co_await in.async_read_some(asio::buffer(buf), use_awaitable);
            completed = true;
            REQUIRE(bytes == block * sizeof(sample));
            ramp_checker chk{1};
            chk.check(buf.data(), block);
            REQUIRE(chk.bad == 0);
        };
        REQUIRE(r.run(reader(r.stream, completed), 10s));
        driver.join();
        CHECK(completed_before_data == 0);
    }
}

TEST_CASE("bridge/input: no lost wake-up over many small blocks", "[bridge][input][wakeup]")
{
    static constexpr std::size_t block = 16;
    struct variant {
        const char* name;
        std::uint64_t max_lead; // frames the driver may run ahead of the reader; 0 = free-running
        std::size_t frames_per_read;
        bool read_some;
        std::size_t ring;
    };
    // Lockstep variants make a lost wake-up fatal: the driver waits for the
    // reader, which waits for a doorbell that never rings.
    const variant variants[] = {
        {"lockstep, typed reads of one block (parks every block)", block, block, false, 256},
        {"lockstep, read_some", block, 4 * block, true, 256},
        {"two blocks of lead, typed reads of one block", 2 * block, block, false, 256},
        {"free-running driver, ring holds everything", 0, block, false, std::size_t{1} << 21},
    };
    for (const variant& v : variants) {
        const std::uint64_t blocks =
            v.max_lead == block && !v.read_some ? lost_wakeup_blocks : lost_wakeup_blocks / 4;
        INFO(v.name << ", " << blocks << " blocks");
        input_rig r(make_params(1, block), v.ring);
        std::atomic<std::uint64_t> consumed{0};
        driver_thread driver([&](const std::atomic<bool>& stop) {
            produce_ramp(r.driver, 0, blocks, block, 1, v.max_lead, &consumed, stop);
        });
        ramp_checker chk{1};
        std::uint64_t lost = 0;
        const auto t0 = std::chrono::steady_clock::now();
        const bool done = r.run(read_ramp(r.stream, chk, blocks * block, v.frames_per_read,
                                          v.read_some, &consumed, &lost));
        // A reader that ran out of time takes nothing more, and a lockstep
        // driver would wait for it forever: the test fails instead of hanging.
        if (!done) driver.stop();
        driver.join();
        INFO("took " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                     << " s; reader at frame " << chk.next << " of " << blocks * block);
        REQUIRE(done);
        CHECK(chk.bad == 0);
        CHECK(lost == 0);
        CHECK(r.stream.counters().frames_dropped == 0);
        CHECK(r.stream.counters().frames == blocks * block);
    }
}

TEST_CASE(
    "bridge/input: overflow drops exactly the excess and the gap is reported where it happened",
    "[bridge][input][overflow]")
{
    static constexpr std::size_t block = 256;
    static constexpr std::size_t ring = 1024;
    static constexpr std::uint64_t flood_blocks = 10; // 2560 frames into a 1024-frame ring
    const bool as_error = GENERATE(false, true);
    INFO("overflow_is_error " << as_error);
    cd::stream_params p = make_params(1, block);
    p.overflow_is_error = as_error;
    input_rig r(p, ring);
    REQUIRE(r.stream.ring_capacity() == ring);

    // The reader does not read while the driver floods the ring.
    {
        driver_thread flood([&](const std::atomic<bool>& stop) {
            produce_ramp(r.driver, 0, flood_blocks, block, 1, 0, nullptr, stop);
        });
        flood.join();
    }
    const std::uint64_t dropped = flood_blocks * block - ring;
    coaudio::stream_counters n = r.stream.counters();
    CHECK(n.frames == ring);
    CHECK(n.frames_dropped == dropped);
    CHECK(n.overflows == flood_blocks - ring / block); // one per callback that lost frames
    CHECK(n.host_overflows == 0);
    CHECK(r.stream.frames_available() == ring);

    struct ctx {
        coaudio::input_stream& in;
        std::error_code ec{};
        std::size_t got = 0;
        std::vector<sample> buf = std::vector<sample>(ring);
    } c{r.stream};
    auto read = [](ctx& c, std::size_t frames) -> asio::awaitable<void> {
        std::tie(c.ec, c.got) = co_await c.in.async_read_frames(std::span(c.buf.data(), frames),
                                                                coaudio::as_tuple(use_awaitable));
    };

    // What was buffered before the loss comes first, unmarked.
    REQUIRE(r.run(read(c, ring), 5s));
    CHECK_FALSE(c.ec);
    REQUIRE(c.got == ring);
    ramp_checker chk{1};
    chk.check(c.buf.data(), c.got);
    CHECK(chk.bad == 0);
    CHECK(r.stream.last_read().frames_lost == 0);
    CHECK(r.stream.last_read().overflows == 0);
    CHECK_FALSE(r.stream.last_read().discontinuous());

    // The next block fits again; the read that starts there reports the gap.
    {
        driver_thread next([&](const std::atomic<bool>& stop) {
            produce_ramp(r.driver, flood_blocks, 1, block, 1, 0, nullptr, stop);
        });
        next.join();
    }
    REQUIRE(r.run(read(c, block), 5s));
    if (as_error)
        CHECK(c.ec == coaudio::errc::input_overflow);
    else
        CHECK_FALSE(c.ec);
    REQUIRE(c.got == block);
    CHECK(r.stream.last_read().frames_lost == dropped);
    CHECK(r.stream.last_read().overflows == flood_blocks - ring / block);
    CHECK(r.stream.last_read().discontinuous());
    chk.next = flood_blocks * block; // the data resumes exactly after the dropped frames
    chk.check(c.buf.data(), c.got);
    CHECK(chk.bad == 0);
    n = r.stream.counters();
    CHECK(n.frames_dropped == dropped);
    CHECK(n.frames == ring + block);

    // And the stream keeps delivering, with no further loss.
    static constexpr std::uint64_t more = 200;
    std::atomic<std::uint64_t> consumed{chk.next};
    driver_thread rest([&](const std::atomic<bool>& stop) {
        produce_ramp(r.driver, flood_blocks + 1, more, block, 1, ring, nullptr, stop);
    });
    std::uint64_t lost = 0;
    REQUIRE(r.run(
        read_ramp(r.stream, chk, (flood_blocks + 1 + more) * block, 100, false, &consumed, &lost),
        10s));
    rest.join();
    CHECK(chk.bad == 0);
    CHECK(lost == 0);
    CHECK(r.stream.last_read().frames_lost == 0);
    CHECK(r.stream.counters().frames_dropped == dropped);
}

TEST_CASE("bridge/input: a host overflow flag is reported with the next read",
          "[bridge][input][overflow]")
{
    static constexpr std::size_t block = 32;
    input_rig r(make_params(1, block), 256);
    {
        driver_thread d([&](const std::atomic<bool>&) {
            std::vector<sample> buf(block);
            fill_ramp(buf.data(), 0, block, 1);
            r.driver->process(buf.data(), nullptr, block, 0);
            fill_ramp(buf.data(), block, block, 1);
            r.driver->process(buf.data(), nullptr, block, paInputOverflow);
        });
        d.join();
    }
    CHECK(r.stream.counters().host_overflows == 1);
    CHECK(r.stream.counters().overflows == 1);
    CHECK(r.stream.counters().frames_dropped == 0);

    struct ctx {
        coaudio::input_stream& in;
        std::vector<std::size_t> got;
        std::vector<coaudio::read_status> st;
    } c{r.stream, {}, {}};
    auto reader = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(2 * block);
        // Asks for both blocks; the flagged block starts a new read.
        for (int i = 0; i < 2; ++i) {
            c.got.push_back(co_await c.in.async_read_frames(std::span(buf), use_awaitable));
            c.st.push_back(c.in.last_read());
        }
    };
    driver_thread late([&](const std::atomic<bool>&) {
        std::this_thread::sleep_for(20ms);
        std::vector<sample> buf(2 * block);
        fill_ramp(buf.data(), 2 * block, 2 * block, 1);
        r.driver->process(buf.data(), nullptr, 2 * block, 0);
    });
    REQUIRE(r.run(reader(c), 5s));
    REQUIRE(c.got.size() == 2);
    CHECK(c.got[0] == block); // ends where the flagged block begins
    CHECK(c.st[0].overflows == 0);
    CHECK(c.got[1] == 2 * block);
    CHECK(c.st[1].overflows == 1);
    CHECK(c.st[1].frames_lost == 0);
    CHECK(c.st[1].discontinuous());
}

// A free-running driver and a reader that stalls at random: every gap must be
// reported by the read whose data follows it, with its exact size, and the
// reported losses must add up to the counters. The ring is no larger than the
// gap queue (64), so every gap fits in it (see the next test for more gaps).
TEST_CASE("bridge/input: random overflows are each reported exactly where they happened",
          "[bridge][input][overflow][stress]")
{
    static constexpr std::size_t block = 16;
    static constexpr std::size_t ring = 64;
    input_rig r(make_params(1, block), ring);
    REQUIRE(r.stream.ring_capacity() == ring);
    std::atomic<std::uint64_t> produced_blocks{0};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        std::vector<sample> buf(block);
        std::minstd_rand rng(7);
        for (std::uint64_t b = 0; b < stress_blocks && !stop.load(std::memory_order_relaxed); ++b) {
            fill_ramp(buf.data(), b * block, block, 1);
            r.driver->process(buf.data(), nullptr, block, 0);
            produced_blocks.store(b + 1, std::memory_order_release);
            // About 16 frames per microsecond, far faster than real time, but
            // slow enough that the reader keeps up between its stalls.
            const auto until =
                std::chrono::steady_clock::now() + std::chrono::nanoseconds(rng() % 2000);
            while (std::chrono::steady_clock::now() < until) {
            }
        }
        // The reader may have parked for frames that the last blocks dropped
        // (it saw the driver not yet done, and then emptied the ring): such a
        // read has nothing to come. The driver's count is stored before this,
        // so the reader sees it done once the cancel has run.
        asio::post(r.io, [&r] { r.stream.cancel(); });
    });

    struct ctx {
        coaudio::input_stream& in;
        std::atomic<std::uint64_t>& produced_blocks;
        std::uint64_t next = 0; // frame index expected next, gaps included
        std::uint64_t bad = 0, first_bad = ~0ull, bad_value = 0;
        std::uint64_t lost = 0, events = 0, gaps = 0, reads = 0;
    } c{r.stream, produced_blocks};
    auto reader = [](ctx& c) -> asio::awaitable<void> {
        std::minstd_rand rng(11);
        std::vector<sample> buf(600);
        asio::steady_timer timer(c.in.get_executor());
        while (c.next < stress_blocks * block) {
            const std::uint64_t produced = c.produced_blocks.load(std::memory_order_acquire);
            // The driver is done and the ring is empty: whatever is missing was
            // dropped after the last block that fitted, a gap that only a later
            // block can publish (done below).
            if (produced == stress_blocks && c.in.frames_available() == 0) break;
            std::size_t got = 0;
            coaudio::error_code ec;
            const std::size_t want = 1 + rng() % buf.size();
            // A typed read of up to a ring's worth is sure to complete if at least
            // that many frames are still to come: they either land in the ring or
            // find it full. Otherwise read_some, which takes what there is.
            if ((stress_blocks - produced) * block >= ring && rng() % 2 == 0) {
                std::tie(ec, got) = co_await c.in.async_read_frames(
                    std::span(buf.data(), std::min(want, ring)), coaudio::as_tuple(use_awaitable));
            } else {
                std::size_t bytes = 0;
                std::tie(ec, bytes) =
                    co_await c.in.async_read_some(asio::buffer(buf.data(), want * sizeof(sample)),
                                                  coaudio::as_tuple(use_awaitable));
                got = bytes / sizeof(sample);
            }
            // Aborted: the driver is done (see its cancel). What the read got
            // still counts; the loop then looks at the driver's count again.
            if (ec && ec != asio::error::operation_aborted) break;
            ++c.reads;
            const coaudio::read_status st = c.in.last_read();
            c.lost += st.frames_lost;
            c.events += st.overflows;
            if (st.overflows != 0) ++c.gaps;
            c.next += st.frames_lost;
            for (std::size_t i = 0; i < got; ++i, ++c.next)
                if (buf[i] != ramp(c.next, 0, 1) && c.bad++ == 0) {
                    c.first_bad = c.next;
                    c.bad_value = static_cast<std::uint64_t>(buf[i]);
                }
            if (c.bad != 0) co_return;
            if (ec) continue;
            if (rng() % 32 == 0) { // stall: let the ring overflow now and then
                timer.expires_after(std::chrono::microseconds(rng() % 100));
                co_await timer.async_wait(use_awaitable);
            }
        }
    };
    const bool finished = r.run(reader(c));
    driver.join();
    INFO("reads " << c.reads << ", gaps " << c.gaps << ", reader at frame " << c.next << " of "
                  << stress_blocks * block << ", first bad frame " << c.first_bad << " held sample "
                  << c.bad_value << " (frame " << c.bad_value - 1 << ")");
    REQUIRE(finished);
    REQUIRE(c.bad == 0);

    // One more block publishes a gap still pending at the end, if any.
    if (c.next < stress_blocks * block) {
        std::vector<sample> buf(block);
        fill_ramp(buf.data(), stress_blocks * block, block, 1);
        driver_thread last(
            [&](const std::atomic<bool>&) { r.driver->process(buf.data(), nullptr, block, 0); });
        last.join();
        coaudio::read_status st;
        ramp_checker chk{1, stress_blocks * block};
        auto tail = [](coaudio::input_stream& in, coaudio::read_status& st,
                       ramp_checker& chk) -> asio::awaitable<void> {
            std::vector<sample> b(block);
            const std::size_t got = co_await in.async_read_frames(std::span(b), use_awaitable);
            st = in.last_read();
            chk.check(b.data(), got);
        };
        REQUIRE(r.run(tail(r.stream, st, chk), 5s));
        CHECK(chk.bad == 0);
        CHECK(c.next + st.frames_lost == stress_blocks * block);
        c.lost += st.frames_lost;
        c.events += st.overflows;
    }
    const coaudio::stream_counters n = r.stream.counters();
    INFO("dropped " << n.frames_dropped << " in " << n.overflows << " callbacks; reported "
                    << c.lost << " in " << c.events << " events");
    CHECK(n.frames_dropped > 0); // the test did overflow the ring
    CHECK(c.lost == n.frames_dropped);
    CHECK(c.events == n.overflows); // every callback that dropped frames is one event
}

// A reader that takes one frame at a time while the ring overflows makes a gap
// per callback, each followed by a single frame: a 256-frame ring can hold 256
// of them, more than the gap queue's 64. Every gap must still be reported where
// it happened, not early. Deterministic: the driver calls are made on the test's
// own thread, between reads (process and finished may be called from any one thread).
TEST_CASE(
    "bridge/input: more outstanding gaps than the gap queue holds are still reported in place",
    "[bridge][input][overflow]")
{
    static constexpr std::size_t block = 4;
    static constexpr std::size_t ring = 256;
    static constexpr int single_reads = 100; // 99 gaps published, more than 64
    input_rig r(make_params(1, block), ring);
    REQUIRE(r.stream.ring_capacity() == ring);
    std::uint64_t produced = 0;
    auto produce = [&] {
        sample buf[block];
        fill_ramp(buf, produced, block, 1);
        r.driver->process(buf, nullptr, block, 0);
        produced += block;
    };

    struct ctx {
        coaudio::input_stream& in;
        std::uint64_t next = 0, lost = 0, bad = 0, first_bad = ~0ull, bad_value = 0;
        void check(const sample* s, std::size_t got)
        {
            const coaudio::read_status st = in.last_read();
            lost += st.frames_lost;
            next += st.frames_lost;
            for (std::size_t i = 0; i < got; ++i, ++next)
                if (s[i] != ramp(next, 0, 1) && bad++ == 0) {
                    first_bad = next;
                    bad_value = static_cast<std::uint64_t>(s[i]) - 1;
                }
        }
    } c{r.stream};
    auto read_one = [](ctx& c) -> asio::awaitable<void> {
        sample s[1];
        const std::size_t got = co_await c.in.async_read_frames(std::span(s), use_awaitable);
        c.check(s, got);
    };
    auto read_all = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(1000);
        while (c.in.frames_available() != 0) {
            const std::size_t bytes =
                co_await c.in.async_read_some(asio::buffer(buf), use_awaitable);
            c.check(buf.data(), bytes / sizeof(sample));
        }
    };

    for (std::size_t b = 0; b < ring / block; ++b)
        produce(); // full
    for (int i = 0; i < single_reads; ++i) {
        REQUIRE(r.run(read_one(c), 5s)); // frees one slot
        produce();                       // one frame fits, three are dropped
    }
    REQUIRE(r.run(read_all(c), 5s));
    produce(); // into the empty ring: publishes the last gap
    REQUIRE(r.run(read_all(c), 5s));

    const coaudio::stream_counters n = r.stream.counters();
    INFO("first bad frame " << c.first_bad << " held frame " << c.bad_value << "; dropped "
                            << n.frames_dropped << ", reported " << c.lost);
    // At least three frames of every block after the first were dropped; how the
    // queue copes with more gaps than it holds (more drops, say) is up to it.
    CHECK(n.frames_dropped >= static_cast<std::uint64_t>(single_reads) * (block - 1));
    CHECK(c.bad == 0);
    CHECK(c.next == produced);
    CHECK(c.lost == n.frames_dropped);
}

// The gap queue and the ring are two things the reader looks at: a gap that is
// published (together with the frames after it) between the reader's look at
// the gap queue and its look at the ring must still be reported before those
// frames. Each cycle here delivers a block into an empty ring, then drops the
// next one into the now full ring, so the gap goes out with the following
// delivery, timed to land just as the reader starts its next read.
TEST_CASE("bridge/input: a gap published as a read starts is reported before its data",
          "[bridge][input][overflow][race]")
{
    static constexpr std::size_t block = 64;
    // The delay's scale varies (1 to 8 us) so that the moment is met whatever
    // the build's speed: optimised, Debug or sanitized.
    static constexpr unsigned max_delay_ns = 1000;
    input_rig r(make_params(1, block), block);
    REQUIRE(r.stream.ring_capacity() == block);
    std::atomic<bool> reader_done{false};
    std::atomic<std::uint64_t> cycles{0};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        std::vector<sample> buf(block);
        std::minstd_rand rng(5);
        for (std::uint64_t j = 0; !stop.load(std::memory_order_relaxed) &&
                                  !reader_done.load(std::memory_order_relaxed);) {
            if (r.driver->ring().readable_from_producer() != 0)
                continue; // the reader took everything
            const auto until = std::chrono::steady_clock::now() +
                               std::chrono::nanoseconds(rng() % (max_delay_ns << (rng() % 4)));
            while (std::chrono::steady_clock::now() < until) {
            }
            fill_ramp(buf.data(), 2 * j * block, block, 1);
            r.driver->process(buf.data(), nullptr, block, 0); // fits, publishing the previous gap
            fill_ramp(buf.data(), (2 * j + 1) * block, block, 1);
            r.driver->process(buf.data(), nullptr, block, 0); // dropped: the ring is full
            cycles.store(++j, std::memory_order_relaxed);
        }
    });

    struct ctx {
        coaudio::input_stream& in;
        std::chrono::steady_clock::time_point until;
        std::uint64_t next = 0, reads = 0, lost = 0, bad_at = ~0ull, bad_value = 0;
        bool bad = false;
    } c
    {
        r.stream, std::chrono::steady_clock::now() +
#if defined(COAUDIO_TEST_SLOW)
                      2000ms
#else
                      1000ms
#endif
    };
    auto reader = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(block);
        while (std::chrono::steady_clock::now() < c.until) {
            std::size_t got;
            if (++c.reads % 2 == 0)
                got = co_await c.in.async_read_frames(std::span(buf), use_awaitable);
            else
                got = co_await c.in.async_read_some(asio::buffer(buf), use_awaitable) /
                      sizeof(sample);
            c.lost += c.in.last_read().frames_lost;
            c.next += c.in.last_read().frames_lost;
            for (std::size_t i = 0; i < got; ++i, ++c.next)
                if (buf[i] != ramp(c.next, 0, 1)) {
                    c.bad = true;
                    c.bad_at = c.next;
                    c.bad_value = static_cast<std::uint64_t>(buf[i]) - 1;
                    co_return;
                }
        }
    };
    const bool finished = r.run(reader(c), 20s);
    reader_done = true;
    driver.join();
    INFO(c.reads << " reads, " << cycles.load() << " cycles; expected frame " << c.bad_at
                 << ", got frame " << c.bad_value << " with no loss reported");
    REQUIRE(finished);
    CHECK_FALSE(c.bad);
    if (!c.bad) {
        CHECK(c.reads > 100);
        CHECK(c.lost > 0);
    }
}

TEST_CASE("bridge/input: frames_available counts frames captured after a partial read",
          "[bridge][input]")
{
    static constexpr std::size_t block = 16;
    input_rig r(make_params(1, block), 256);
    auto produce = [&](std::uint64_t first_block, std::uint64_t blocks) {
        driver_thread d([&](const std::atomic<bool>& stop) {
            produce_ramp(r.driver, first_block, blocks, block, 1, 0, nullptr, stop);
        });
        d.join();
    };
    produce(0, 1);
    auto read4 = [](coaudio::input_stream& in) -> asio::awaitable<void> {
        std::vector<sample> buf(4);
        const std::size_t n = co_await in.async_read_frames(std::span(buf), use_awaitable);
        REQUIRE(n == 4);
    };
    REQUIRE(r.run(read4(r.stream), 5s));
    CHECK(r.stream.frames_available() == block - 4);
    produce(1, 4);
    CHECK(r.stream.frames_available() == 5 * block - 4);
}

TEST_CASE("bridge/input: device loss completes a parked read with device_lost",
          "[bridge][input][loss]")
{
    static constexpr std::size_t block = 16;
    input_rig r(make_params(1, block), 256);
    std::atomic<bool> completed{false};
    bool completed_early = false;
    driver_thread driver([&](const std::atomic<bool>&) {
        std::vector<sample> buf(block);
        fill_ramp(buf.data(), 0, block, 1);
        r.driver->process(buf.data(), nullptr, block, 0);
        std::this_thread::sleep_for(30ms);
        completed_early = completed.load();
        r.driver->finished(); // not asked for: the device went away
    });
    struct ctx {
        coaudio::input_stream& in;
        std::atomic<bool>& completed;
        std::error_code ec1{}, ec2{};
        std::size_t got1 = 0, got2 = 0;
    } c{r.stream, completed};
    auto reader = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(4 * block);
        // Waits for more than will ever come; gets the one block and the loss.
        std::tie(c.ec1, c.got1) =
            co_await c.in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
        c.completed = true;
        // A read after the loss fails at once.
        std::tie(c.ec2, c.got2) =
            co_await c.in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
    };
    REQUIRE(r.run(reader(c), 5s));
    driver.join();
    CHECK_FALSE(completed_early);
    CHECK(c.ec1 == coaudio::errc::device_lost);
    CHECK(c.got1 == block); // frames already copied are counted
    CHECK(c.ec2 == coaudio::errc::device_lost);
    CHECK(c.got2 == 0);
    CHECK_FALSE(r.stream.is_active());
}

// An operation never completes inside its initiating function (DESIGN.md §5): a
// completion handler that starts the next operation must not recurse. The race
// window is between the operation's first look at the ring and its re-check
// after announcing the park, so a driver that produces just then is needed.
TEST_CASE("bridge/input: a read never completes inside its initiating call",
          "[bridge][input][initiation]")
{
    static constexpr std::size_t block = 1;
    // The delay's scale varies (1 to 8 us) so that the moment is met whatever
    // the build's speed: optimised, Debug or sanitized.
    static constexpr unsigned max_delay_ns = 1000;
    input_rig r(make_params(1, block), std::size_t{1} << 16);
    std::atomic<bool> reader_done{false};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        sample s = 0;
        std::minstd_rand rng(3);
        while (!stop.load(std::memory_order_relaxed) &&
               !reader_done.load(std::memory_order_relaxed)) {
            // Once the reader has taken the last frame, it soon starts its next
            // read and finds the ring empty. Produce one frame after a random
            // delay around that moment, so that it often lands between the
            // read's first look and its re-check.
            if (r.driver->ring().readable_from_producer() != 0) continue;
            const auto until = std::chrono::steady_clock::now() +
                               std::chrono::nanoseconds(rng() % (max_delay_ns << (rng() % 4)));
            while (std::chrono::steady_clock::now() < until) {
            }
            r.driver->process(&s, nullptr, 1, 0);
        }
    });

    struct state {
        coaudio::input_stream& in;
        std::vector<sample> buf = std::vector<sample>(64);
        bool initiating = false;
        int reads = 0, inline_completions = 0, errors = 0, typed = 0;
        std::chrono::steady_clock::time_point until{};
        void next()
        {
            if (std::chrono::steady_clock::now() > until) return;
            initiating = true;
            if (++reads % 2 == 0) {
                ++typed;
                in.async_read_frames(std::span(buf.data(), 1),
                                     [this](std::error_code ec, std::size_t) { done(ec); });
            } else {
                in.async_read_some(asio::buffer(buf),
                                   [this](std::error_code ec, std::size_t) { done(ec); });
            }
            initiating = false;
        }
        void done(std::error_code ec)
        {
            if (initiating) ++inline_completions;
            if (ec) ++errors;
            // Posted, so that a completion inside the initiation cannot recurse without bound.
            asio::post(in.get_executor(), [this] { next(); });
        }
    } st{r.stream};
#if defined(COAUDIO_TEST_SLOW)
    st.until = std::chrono::steady_clock::now() + 1000ms;
#else
    st.until = std::chrono::steady_clock::now() + 400ms;
#endif
    asio::post(r.io, [&] { st.next(); });
    r.io.run_for(10s);
    reader_done = true;
    driver.join();
    INFO(st.reads << " reads");
    CHECK(st.reads > 100);
    CHECK(st.errors == 0);
    CHECK(st.inline_completions == 0);
}

// =====================================================================================
// Output
// =====================================================================================

// Pulls blocks from an output core and checks them against the ramp, allowing
// silence (all-zero frames) only where the core counts it.
struct pull_checker {
    int channels = 1;
    std::uint64_t next = 0; // data frames seen
    std::uint64_t silent = 0;
    std::uint64_t bad = 0, first_bad = ~0ull;
    void check(const sample* s, std::size_t frames)
    {
        for (std::size_t f = 0; f < frames; ++f) {
            bool zero = true;
            for (int c = 0; c < channels; ++c)
                zero = zero && s[f * channels + c] == 0;
            if (zero) {
                ++silent;
                continue;
            }
            for (int c = 0; c < channels; ++c)
                if (s[f * channels + c] != ramp(next, c, channels) && bad++ == 0) first_bad = next;
            ++next;
        }
    }
};

TEST_CASE("bridge/output: a writer faster than the driver parks on a full ring and loses nothing",
          "[bridge][output]")
{
    static constexpr int ch = 2;
    static constexpr std::size_t block = 64;
    static constexpr std::size_t ring = 256;
    static constexpr std::uint64_t total = 200 * block;
    output_rig r(make_params(ch, block), ring);
    REQUIRE(r.stream.ring_capacity() == ring);

    std::atomic<std::uint64_t> pulling{0}; // frames up to the end of the pull under way
    pull_checker pc{ch};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        std::vector<sample> buf(block * ch);
        while (pc.next < total && !stop.load(std::memory_order_relaxed)) {
            // Pull only full blocks of data: the writer is the faster side here.
            if (r.driver->ring().read_available() < block) {
                std::this_thread::yield();
                continue;
            }
            std::fill(buf.begin(), buf.end(), sample{-1});
            // Published before the pull: the writer's acquire of the ring index
            // that sees the space this pull frees also sees this count.
            pulling.store(pc.next + block, std::memory_order_release);
            r.driver->process(nullptr, buf.data(), block, 0);
            pc.check(buf.data(), block);
        }
    });

    struct ctx {
        coaudio::output_stream& out;
        std::atomic<std::uint64_t>& pulling;
        std::uint64_t pulling_at_first_completion = 0;
        std::uint64_t written = 0;
    } c{r.stream, pulling};
    auto writer = [](ctx& c) -> asio::awaitable<void> {
        // Chunks larger than the ring must park and resume to complete.
        const std::size_t sizes[] = {300, 1, 64, 257, 1000, 5, 128};
        std::vector<sample> buf(1000 * ch);
        for (std::size_t i = 0; c.written < total; ++i) {
            const std::size_t n =
                std::min<std::uint64_t>(sizes[i % std::size(sizes)], total - c.written);
            fill_ramp(buf.data(), c.written, n, ch);
            std::size_t took;
            if (i % 4 == 3) {
                took = co_await c.out.async_write_some(
                           asio::buffer(buf.data(), n * ch * sizeof(sample)), use_awaitable) /
                       (ch * sizeof(sample));
                REQUIRE(took >= 1);
            } else {
                took = co_await c.out.async_write_frames(
                    std::span<const sample>(buf.data(), n * ch), use_awaitable);
                REQUIRE(took == n);
            }
            if (i == 0) c.pulling_at_first_completion = c.pulling.load(std::memory_order_acquire);
            c.written += took;
        }
    };
    REQUIRE(r.run(writer(c)));
    driver.join();
    INFO("first bad frame " << pc.first_bad);
    CHECK(pc.bad == 0);
    CHECK(pc.next == total);
    CHECK(pc.silent == 0);
    // 300 frames cannot fit a 256-frame ring: the first write completed only after a pull.
    CHECK(c.pulling_at_first_completion >= block);
    const coaudio::stream_counters n = r.stream.counters();
    CHECK(n.frames == total);
    CHECK(n.underflows == 0);
    CHECK(n.silence_frames == 0);
}

TEST_CASE("bridge/output: pulling from an empty ring plays silence and counts an underflow once "
          "data started",
          "[bridge][output][underflow]")
{
    static constexpr std::size_t block = 64;
    output_rig r(make_params(1, block), 256);
    auto pull = [&](std::vector<sample>& buf) {
        std::fill(buf.begin(), buf.end(), sample{0x55555555});
        int rc = 0;
        driver_thread d([&](const std::atomic<bool>&) {
            rc = r.driver->process(nullptr, buf.data(), block, 0);
        });
        d.join();
        return rc;
    };
    std::vector<sample> buf(block);

    // Before the first frame, silence is pre-roll, not an underflow.
    CHECK(pull(buf) == paContinue);
    CHECK(std::all_of(buf.begin(), buf.end(), [](sample s) { return s == 0; }));
    CHECK(r.stream.counters().underflows == 0);
    CHECK(r.stream.counters().silence_frames == 0);

    auto write = [](coaudio::output_stream& out, std::size_t n) -> asio::awaitable<void> {
        std::vector<sample> src(n);
        fill_ramp(src.data(), 0, n, 1);
        const std::size_t took =
            co_await out.async_write_frames(std::span<const sample>(src), use_awaitable);
        REQUIRE(took == n);
    };
    REQUIRE(r.run(write(r.stream, 100), 5s));

    CHECK(pull(buf) == paContinue);
    ramp_checker chk{1};
    chk.check(buf.data(), block);
    CHECK(r.stream.counters().underflows == 0);

    CHECK(pull(buf) == paContinue); // 36 frames of data, then 28 of silence
    chk.check(buf.data(), 36);
    CHECK(chk.bad == 0);
    CHECK(std::all_of(buf.begin() + 36, buf.end(), [](sample s) { return s == 0; }));
    CHECK(r.stream.counters().underflows == 1);
    CHECK(r.stream.counters().silence_frames == 28);

    CHECK(pull(buf) == paContinue); // all silence
    CHECK(std::all_of(buf.begin(), buf.end(), [](sample s) { return s == 0; }));
    CHECK(r.stream.counters().underflows == 2);
    CHECK(r.stream.counters().silence_frames == 28 + block);
    CHECK(r.stream.counters().frames == 100);

    SECTION("unsigned 8-bit silence is the midpoint, 0x80")
    {
        output_rig u(make_params(2, 8, coaudio::sample_format::uint8), 64);
        auto write8 = [](coaudio::output_stream& out) -> asio::awaitable<void> {
            const std::uint8_t src[4] = {1, 2, 3, 4}; // two frames
            const std::size_t n =
                co_await out.async_write_frames(std::span<const std::uint8_t>(src), use_awaitable);
            REQUIRE(n == 2);
        };
        REQUIRE(u.run(write8(u.stream), 5s));
        std::uint8_t out1[16], out2[16];
        std::fill(std::begin(out1), std::end(out1), std::uint8_t{0x11});
        std::fill(std::begin(out2), std::end(out2), std::uint8_t{0x11});
        driver_thread d([&](const std::atomic<bool>&) {
            u.driver->process(nullptr, out1, 8, 0); // the two frames, then silence
            u.driver->process(nullptr, out2, 8, 0); // silence only: an underflow
        });
        d.join();
        CHECK(out1[0] == 1);
        CHECK(out1[3] == 4);
        CHECK(std::all_of(out1 + 4, out1 + 16, [](std::uint8_t b) { return b == 0x80; }));
        CHECK(std::all_of(out2, out2 + 16, [](std::uint8_t b) { return b == 0x80; }));
        CHECK(u.stream.counters().underflows >= 1);
        CHECK(u.stream.counters().silence_frames >= 8);
    }
}

TEST_CASE(
    "bridge/output: async_drain completes after the last frame was pulled and the stream finished",
    "[bridge][output][drain]")
{
    static constexpr std::size_t block = 64;
    static constexpr std::size_t total = 1000;
    output_rig r(make_params(1, block), 1024);
    std::atomic<bool> written{false};
    std::atomic<bool> finished_called{false};
    std::uint64_t data_at_complete = ~0ull;
    pull_checker pc{1};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        std::vector<sample> buf(block);
        while (!written.load() && !stop.load())
            std::this_thread::yield();
        for (;;) {
            if (stop.load()) return;
            const int rc = r.driver->process(nullptr, buf.data(), block, 0);
            pc.check(buf.data(), block);
            if (rc == paComplete) {
                data_at_complete = pc.next;
                break;
            }
            std::this_thread::sleep_for(
                200us); // a little slower than the writer: the drain has to wait
        }
        std::this_thread::sleep_for(
            20ms); // PortAudio calls the finished callback later, from its own thread
        finished_called = true;
        r.driver->finished();
    });

    struct ctx {
        coaudio::output_stream& out;
        std::atomic<bool>& written;
        std::atomic<bool>& finished_called;
        std::error_code ec{};
        bool finished_before_drain_completed = false;
    } c{r.stream, written, finished_called};
    auto writer = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> src(total);
        fill_ramp(src.data(), 0, total, 1);
        const std::size_t n =
            co_await c.out.async_write_frames(std::span<const sample>(src), use_awaitable);
        REQUIRE(n == total);
        c.written = true;
        std::tie(c.ec) = co_await c.out.async_drain(coaudio::as_tuple(use_awaitable));
        c.finished_before_drain_completed = c.finished_called.load();
    };
    REQUIRE(r.run(writer(c), 10s));
    driver.join();
    CHECK_FALSE(c.ec);
    CHECK(c.finished_before_drain_completed);
    CHECK(data_at_complete == total); // paComplete came only once every frame was pulled
    CHECK(pc.bad == 0);
    CHECK_FALSE(r.stream.is_active());
    CHECK(r.stream.counters().frames == total);
}

TEST_CASE("bridge/output: async_drain on a stream that is not running", "[bridge][output][drain]")
{
    static constexpr std::size_t block = 64;
    output_rig r(make_params(1, block), 256, /*start*/ false);
    struct ctx {
        coaudio::output_stream& out;
        std::error_code ec{};
    } c{r.stream};
    auto drain = [](ctx& c) -> asio::awaitable<void> {
        std::tie(c.ec) = co_await c.out.async_drain(coaudio::as_tuple(use_awaitable));
    };

    SECTION("nothing queued: completes at once without error (output_stream.hpp, async_drain)")
    {
        REQUIRE(r.run(drain(c), 1s));
        CHECK_FALSE(c.ec);
    }
    SECTION("frames queued: completes with not_running")
    {
        auto write = [](coaudio::output_stream& out) -> asio::awaitable<void> {
            std::vector<sample> src(10, 1);
            const std::size_t n =
                co_await out.async_write_frames(std::span<const sample>(src), use_awaitable);
            REQUIRE(n == 10);
        };
        REQUIRE(r.run(write(r.stream), 2s));
        REQUIRE(r.run(drain(c), 1s));
        CHECK(c.ec == coaudio::errc::not_running);
    }
}

TEST_CASE("bridge/output: device loss completes a parked write and a parked drain with device_lost",
          "[bridge][output][loss]")
{
    static constexpr std::size_t block = 64;
    output_rig r(make_params(1, block), 256);
    struct ctx {
        coaudio::output_stream& out;
        std::atomic<bool> completed{false};
        std::error_code ec{};
        std::size_t took = 0;
    } c{r.stream};

    SECTION("write")
    {
        auto writer = [](ctx& c) -> asio::awaitable<void> {
            std::vector<sample> src(1000, 1); // more than the ring: parks
            std::tie(c.ec, c.took) = co_await c.out.async_write_frames(
                std::span<const sample>(src), coaudio::as_tuple(use_awaitable));
            c.completed = true;
        };
        bool early = true;
        driver_thread d([&](const std::atomic<bool>&) {
            std::this_thread::sleep_for(30ms);
            early = c.completed.load();
            r.driver->finished();
        });
        REQUIRE(r.run(writer(c), 5s));
        d.join();
        CHECK_FALSE(early);
        CHECK(c.ec == coaudio::errc::device_lost);
        CHECK(c.took == 256); // what fitted before the loss
    }
    SECTION("drain")
    {
        auto drainer = [](ctx& c) -> asio::awaitable<void> {
            std::vector<sample> src(100, 1);
            const std::size_t n =
                co_await c.out.async_write_frames(std::span<const sample>(src), use_awaitable);
            REQUIRE(n == 100);
            std::tie(c.ec) = co_await c.out.async_drain(coaudio::as_tuple(use_awaitable));
            c.completed = true;
        };
        bool early = true;
        driver_thread d([&](const std::atomic<bool>&) {
            std::this_thread::sleep_for(30ms);
            early = c.completed.load();
            r.driver->finished(); // gone before the ring was played
        });
        REQUIRE(r.run(drainer(c), 5s));
        d.join();
        CHECK_FALSE(early);
        CHECK(c.ec == coaudio::errc::device_lost);
    }
}

TEST_CASE("bridge/output: no lost wake-up for a writer over many small blocks",
          "[bridge][output][wakeup]")
{
    static constexpr std::size_t block = 16;
    static constexpr std::size_t ring = 64;
    const std::uint64_t total = lost_wakeup_blocks / 2 * block;
    output_rig r(make_params(1, block), ring);
    std::atomic<std::uint64_t> written{0};
    pull_checker pc{1};
    driver_thread driver([&](const std::atomic<bool>& stop) {
        std::vector<sample> buf(block);
        // Lockstep: pull only when the ring is full, so the writer must have
        // parked (or be about to) and a lost wake-up stalls both sides.
        while (pc.next < total && !stop.load(std::memory_order_relaxed)) {
            const std::uint64_t queued = written.load(std::memory_order_acquire) - pc.next;
            if (queued < std::min<std::uint64_t>(ring, total - pc.next)) {
                std::this_thread::yield();
                continue;
            }
            r.driver->process(nullptr, buf.data(), block, 0);
            pc.check(buf.data(), block);
        }
    });
    struct ctx {
        coaudio::output_stream& out;
        std::atomic<std::uint64_t>& written;
        std::uint64_t total;
    } c{r.stream, written, total};
    auto writer = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(block);
        for (std::uint64_t w = 0; w < c.total; w += block) {
            fill_ramp(buf.data(), w, block, 1);
            const std::size_t n =
                co_await c.out.async_write_frames(std::span<const sample>(buf), use_awaitable);
            REQUIRE(n == block);
            c.written.store(w + block, std::memory_order_release);
        }
    };
    const bool done = r.run(writer(c));
    driver.join();
    INFO("writer at " << written.load() << " of " << total << ", driver at " << pc.next);
    REQUIRE(done);
    CHECK(pc.next == total);
    CHECK(pc.bad == 0);
    CHECK(pc.silent == 0);
    CHECK(r.stream.counters().underflows == 0);
}
