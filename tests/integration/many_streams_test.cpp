// Sixteen capture streams on one io_context and one thread, each delivering
// every block of a real (JACK dummy) server.
#include <coaudio/input_stream.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/run.hpp"

#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>
#include <vector>

TEST_CASE("sixteen streams on one io_context each deliver every block", "[realtime]")
{
    constexpr int streams = 16;
    constexpr std::size_t block = 256;
    constexpr std::size_t blocks = 200; // about a second of audio each
    coaudio::library lib;
    asio::io_context io;
    std::vector<std::unique_ptr<coaudio::input_stream>> in;
    for (int i = 0; i < streams; ++i) {
        in.push_back(std::make_unique<coaudio::input_stream>(
            io, coaudio::stream_config{.device = test::jack_device_index(),
                                       .channels = 1,
                                       .sample_rate = 48000,
                                       .frames_per_block = block}));
    }
    for (auto& s : in)
        s->start();
    // Starting a JACK stream waits for a server cycle, so the first streams
    // run (and may overflow) while the last ones start: from here on, with
    // all of them running, every block must arrive.
    std::vector<coaudio::stream_counters> baseline;
    for (auto& s : in)
        baseline.push_back(s->counters());
    std::vector<std::size_t> got(streams, 0);
    int finished = 0;
    for (int i = 0; i < streams; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                std::vector<float> buf(block);
                auto& s = *in[std::size_t(i)];
                while (s.frames_available() >= block)
                    co_await s.async_read_frames(std::span(buf), asio::use_awaitable);
                baseline[std::size_t(i)] = s.counters();
                while (got[std::size_t(i)] < blocks * block) {
                    got[std::size_t(i)] += co_await in[std::size_t(i)]->async_read_frames(
                        std::span(buf), asio::use_awaitable);
                }
                ++finished;
            },
            asio::detached);
    }
    io.run_for(std::chrono::seconds(20));
    CHECK(finished == streams);
    for (int i = 0; i < streams; ++i) {
        INFO("stream " << i);
        CHECK(got[std::size_t(i)] == blocks * block);
        // Nothing dropped by coaudio: the io thread kept up with all sixteen.
        // (The server itself may report xruns on a loaded machine; those
        // arrive as host overflows, in every stream alike, and are not ours.)
        const auto c = in[std::size_t(i)]->counters();
        const auto& b = baseline[std::size_t(i)];
        INFO("server xruns seen: " << c.host_overflows - b.host_overflows);
        CHECK(c.frames_dropped == b.frames_dropped);
        CHECK(c.overflows - c.host_overflows == b.overflows - b.host_overflows);
    }
}
