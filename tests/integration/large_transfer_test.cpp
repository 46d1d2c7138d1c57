// Transfers larger than the ring on real PortAudio (JACK dummy server, each
// duplex stream's output port wired to its input port): a reader and a
// writer that keep up lose nothing, whatever the size of their transfers or
// the block size, and the ramp comes back bit for bit.
#include <coaudio/duplex_stream.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/ramp.hpp"

#include <asio/post.hpp>

#include <chrono>
#include <list>

namespace {

constexpr double rate = 48000;
constexpr double seconds = 10;

struct jack_run : test::ramp_transfer {
    coaudio::duplex_stream stream;

    jack_run(asio::io_context& io, test::jack_patchbay& bay, unsigned long block) : stream(io)
    {
        test::open_mono_loopback(stream, bay, rate, block);
    }
};

} // namespace

// All twelve streams run at once, so the test takes ten seconds, not two
// minutes. They are opened, started and wired by a coroutine that lets the
// io_context run between steps, as an application opening streams while
// others stream would: done all at once first, opening the later streams
// would take longer than the first streams' rings last. Each connection
// makes JACK report an xrun to every client, so the transfers that are
// checked begin once all streams are wired.
TEST_CASE("reads and writes of 1 s, 10 s and 1.5 rings lose nothing on JACK at any block size",
          "[realtime]")
{
    coaudio::library lib;
    asio::io_context io;
    test::jack_patchbay bay;
    std::list<jack_run> runs; // stable addresses: the coroutines hold references
    bool opened = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (unsigned long block : {64ul, 256ul, 480ul, 1024ul}) {
                std::size_t ring = 0;
                for (int size = 0; size < 3; ++size) {
                    auto& r = runs.emplace_back(io, bay, block);
                    if (ring == 0) ring = r.stream.frames_writable(); // all of it, before the start
                    static_cast<test::ramp_transfer&>(r) = test::make_transfer(
                        block, test::transfer_sizes(rate, seconds, ring)[size], rate, seconds);
                    co_await asio::post(asio::use_awaitable);
                    r.stream.start();
                    test::spawn_ramp(io, r.stream, r, &opened);
                    co_await asio::post(asio::use_awaitable);
                    bay.loop_new_ports();
                    bay.isolate_new_inputs();
                    co_await asio::post(asio::use_awaitable);
                }
            }
            opened = true;
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(100);
    while (!(opened && test::all_finished(runs)) && std::chrono::steady_clock::now() < deadline)
        io.run_one_until(deadline);
    REQUIRE(opened);
    REQUIRE(test::all_finished(runs));
    for (auto& r : runs)
        r.stream.abort(); // only now: see spawn_ramp

    for (auto& r : runs) {
        test::print_transfer("JACK", r);
        INFO("block " << r.block << ", transfers of " << r.chunk << " frames");
        if (r.error) std::rethrow_exception(r.error);
        // Nothing lost between the callback and the reader or the writer.
        CHECK(r.counters.frames_dropped == 0);
        CHECK(r.counters.underflows == 0);
        CHECK(r.counters.overflows == r.counters.host_overflows);
        // Bit for bit. A non-realtime server on a shared machine has xruns
        // of its own: every gap the reader met is one the host reported,
        // none is the ring's, and after each the ramp resumed with no other
        // break.
        CHECK(r.result->mismatches == 0);
        CHECK(r.result->ring_lost == 0);
        CHECK(r.result->checked >= r.result->frames * 99 / 100);
    }
}
