// Transfers larger than the ring, on the virtual device: a reader and a
// writer that keep up lose nothing, whatever the size of their transfers, and
// the data comes back bit for bit. The device is stepped from the io thread,
// one block per turn of the io_context, so that "keeping up" means exactly
// that the operations get to run between blocks: the test is deterministic
// and faster than real time, and a busy machine cannot fail it. (The JACK
// integration test runs the same transfers in real time.)
#include <coaudio/virtual_device.hpp>

#include "support/catch.hpp"
#include "support/ramp.hpp"

#include <asio/detached.hpp>
#include <asio/post.hpp>

#include <list>

namespace {

constexpr double rate = 48000;
constexpr double seconds = 10;

struct virtual_run : test::ramp_transfer {
    coaudio::virtual_device dev;
    coaudio::duplex_stream stream;

    virtual_run(asio::io_context& io, unsigned long block)
        : dev({.sample_rate = rate, .frames_per_block = block}), stream(io)
    {
        dev.open(stream);
    }
};

} // namespace

TEST_CASE("reads and writes of 1 s, 10 s and 1.5 rings lose nothing at any block size")
{
    asio::io_context io;
    std::list<virtual_run> runs; // stable addresses: the coroutines hold references
    for (unsigned long block : {64ul, 256ul, 480ul, 1024ul}) {
        // Every free frame of the ring, before the start.
        const std::size_t ring = virtual_run(io, block).stream.frames_writable();
        for (std::size_t chunk : test::transfer_sizes(rate, seconds, ring)) {
            auto& r = runs.emplace_back(io, block);
            static_cast<test::ramp_transfer&>(r) = test::make_transfer(block, chunk, rate, seconds);
        }
    }
    for (auto& r : runs) {
        r.stream.start();
        test::spawn_ramp(io, r.stream, r);
        asio::co_spawn(
            io,
            [&r]() -> asio::awaitable<void> {
                while (!r.result) {
                    r.dev.step(1);
                    co_await asio::post(asio::use_awaitable);
                }
            },
            asio::detached);
    }
    REQUIRE(test::run_transfers(io, runs, std::chrono::seconds(120)));
    for (auto& r : runs)
        r.stream.abort(); // only now: see spawn_ramp

    for (auto& r : runs) {
        test::print_transfer("virtual", r);
        INFO("block " << r.block << ", transfers of " << r.chunk << " frames");
        if (r.error) std::rethrow_exception(r.error);
        CHECK(r.counters.frames_dropped == 0);
        CHECK(r.counters.overflows == 0);
        CHECK(r.counters.underflows == 0);
        CHECK(r.result->gaps == 0);
        CHECK(r.result->short_reads == 0);
        CHECK(r.result->mismatches == 0);
        // Every frame after the first was checked; before it, only the
        // loopback's one block of silence.
        CHECK(r.result->checked + r.result->leading + 1 == r.result->frames);
        CHECK(r.result->leading == r.block);
    }
}
