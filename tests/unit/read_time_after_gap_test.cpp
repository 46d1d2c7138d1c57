// The ADC time a read reports is its first frame's even when the read began
// before that frame was captured: a read parked at the position of a gap
// (the frames before it read, the frames after it not yet captured) reports
// the time of the first frame after the gap, not an extrapolation from the
// frames before it, which would be early by the frames lost.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/virtual_device.hpp>

#include "support/catch.hpp"

#include <asio/io_context.hpp>

#include <cmath>
#include <span>
#include <vector>

TEST_CASE("a read parked where a gap begins reports the time of the first frame after it")
{
    constexpr double rate = 48000;
    constexpr unsigned long block = 256;
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = rate, .frames_per_block = block});
    coaudio::input_stream in(io);
    dev.open(in, {.ring_frames = 1024});
    const std::size_t ring = in.ring_capacity();
    in.start();
    // 20 blocks: the ring fills with the first frames; the rest is dropped.
    dev.step(20);
    std::vector<float> buf(ring);
    std::size_t n = 0;
    in.async_read_frames(std::span(buf), [&](auto ec, std::size_t k) {
        CHECK_FALSE(ec);
        n = k;
    });
    io.run();
    io.restart();
    REQUIRE(n == ring);
    CHECK(in.last_read().input_time == 0.0);
    // The ring is empty: this read parks, at the gap's position, until the
    // next block (block 20, captured at 20 * block / rate) arrives.
    in.async_read_frames(std::span(buf).first(block), [&](auto ec, std::size_t k) {
        CHECK_FALSE(ec);
        n = k;
    });
    io.poll();
    dev.step(1);
    io.run();
    REQUIRE(n == block);
    const auto st = in.last_read();
    INFO("frames lost " << st.frames_lost << ", input_time " << st.input_time);
    CHECK(st.frames_lost == 20 * block - ring);
    CHECK(std::abs(st.input_time - 20.0 * block / rate) < 1e-9);
}
