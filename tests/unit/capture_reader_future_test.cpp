// A capture reader's read whose handler runs on an executor of its own (as
// `use_future`'s runs on the system executor) may destroy the reader, the
// hub, the stream and the io_context before it returns, as a caller woken by
// a future may do at once. An operation that touches any of them after
// calling its handler (a work guard it releases, or the last reference to
// the reader's state) reads freed memory, which ASan reports (the asan
// preset runs this). On the virtual device.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/capture_hub.hpp>
#include <coaudio/virtual_device.hpp>

#include "support/catch.hpp"

#include <asio/bind_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/system_executor.hpp>

#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

TEST_CASE("a reader's handler on an executor of its own may destroy everything")
{
    constexpr unsigned long block = 256;
    auto io = std::make_unique<asio::io_context>();
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    auto in = std::make_unique<coaudio::input_stream>(*io);
    dev.open(*in);
    in->start();
    auto hub = std::make_unique<coaudio::capture_hub>(*in); // drains a running stream at once
    auto reader = std::make_unique<coaudio::capture_reader>(hub->make_reader());
    dev.step(4);
    // The hub's pump moves the captured frames into the reader's buffer.
    for (int i = 0; i < 100 && reader->frames_available() < block; ++i)
        io->poll();
    REQUIRE(reader->frames_available() >= block);

    // The frames are there: the read completes, deferred to the handler's
    // executor, with nothing running the io_context.
    std::vector<float> buf(block);
    std::promise<std::pair<std::error_code, std::size_t>> result;
    auto fut = result.get_future();
    reader->async_read_frames(
        std::span(buf),
        asio::bind_executor(asio::system_executor(), [&](coaudio::error_code ec, std::size_t n) {
            reader.reset();
            hub.reset();
            in.reset();
            io.reset();
            result.set_value({ec, n});
        }));
    REQUIRE(fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    const auto [ec, n] = fut.get();
    CHECK_FALSE(ec);
    CHECK(n == block);
    CHECK(!io);
}
