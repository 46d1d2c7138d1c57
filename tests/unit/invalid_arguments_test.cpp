// Every public entry point, given an invalid argument, reports a clear error
// and leaves the object usable. No audio hardware: the virtual device stands in.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"

#include <asio/io_context.hpp>

#include <optional>
#include <vector>

namespace {

// Runs `io` until the operation started by `start` has completed; returns its error.
template <class Start>
std::error_code outcome(asio::io_context& io, Start start)
{
    std::optional<std::error_code> ec;
    start([&](std::error_code e, auto&&...) { ec = e; });
    io.restart();
    io.run_for(std::chrono::milliseconds(500));
    REQUIRE(ec);
    return *ec;
}

} // namespace

TEST_CASE("frame_ring rejects a zero frame size")
{
    CHECK_THROWS_AS(coaudio::frame_ring(16, 0), std::invalid_argument);
}

TEST_CASE("every control call on a never-opened stream says not_open, in both forms")
{
    asio::io_context io;
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    coaudio::duplex_stream duplex(io);
    std::error_code ec;
    in.start(ec);
    CHECK(ec == coaudio::errc::not_open);
    in.stop(ec);
    CHECK(ec == coaudio::errc::not_open);
    in.abort(ec);
    CHECK(ec == coaudio::errc::not_open);
    in.cancel(ec);
    CHECK(ec == coaudio::errc::not_open);
    CHECK_THROWS_AS(in.start(), std::system_error);
    CHECK_THROWS_AS(out.stop(), std::system_error);
    CHECK_THROWS_AS(out.abort(), std::system_error);
    CHECK_THROWS_AS(duplex.cancel(), std::system_error);
    CHECK_THROWS_AS(in.params(), std::system_error);
    CHECK_THROWS_AS(out.time(), std::system_error);
    CHECK_THROWS_AS(duplex.cpu_load(), std::system_error);
    CHECK_THROWS_AS(duplex.input_params(), std::system_error);
    CHECK_NOTHROW(in.close());
    CHECK_FALSE(in.is_open());
    CHECK_FALSE(in.is_active());
    CHECK(in.native_handle() == nullptr);
    CHECK(in.frames_available() == 0);
    CHECK(out.frames_writable() == 0);
    CHECK(in.ring_capacity() == 0);
    CHECK(in.counters().frames == 0);
}

TEST_CASE("every operation on a never-opened stream completes with not_open")
{
    asio::io_context io;
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    std::vector<float> buf(64);
    std::span<float> planes[] = {buf};
    CHECK(outcome(io, [&](auto h) { in.async_read_some(asio::buffer(buf), h); }) ==
          coaudio::errc::not_open);
    CHECK(outcome(io, [&](auto h) { in.async_read_frames(std::span(buf), h); }) ==
          coaudio::errc::not_open);
    CHECK(outcome(io, [&](auto h) {
              in.async_read_frames(std::span<const std::span<float>>(planes), h);
          }) == coaudio::errc::not_open);
    CHECK(outcome(io, [&](auto h) { out.async_write_some(asio::buffer(buf), h); }) ==
          coaudio::errc::not_open);
    CHECK(outcome(io, [&](auto h) { out.async_write_frames(std::span(buf), h); }) ==
          coaudio::errc::not_open);
    CHECK(outcome(io, [&](auto h) { out.async_drain(h); }) == coaudio::errc::not_open);
}

TEST_CASE("buffers and spans that do not fit the stream are refused, and the stream goes on")
{
    asio::io_context io;
    coaudio::virtual_device dev;
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    dev.open(in, {.channels = 2});
    dev.open(out, {.channels = 2, .format = coaudio::sample_format::int16});
    in.start();
    out.start();
    std::vector<float> three(3), four(4);
    std::vector<std::int16_t> shorts(4);
    char byte[1];
    std::span<float> one_plane[] = {four};
    std::span<float> uneven[] = {four, three};
    CHECK(outcome(io, [&](auto h) { in.async_read_some(asio::buffer(byte), h); }) ==
          coaudio::errc::not_whole_frames);
    CHECK(outcome(io, [&](auto h) { in.async_read_frames(std::span(three), h); }) ==
          coaudio::errc::not_whole_frames);
    CHECK(outcome(io, [&](auto h) { in.async_read_frames(std::span(shorts), h); }) ==
          coaudio::errc::format_mismatch);
    CHECK(outcome(io, [&](auto h) {
              in.async_read_frames(std::span<const std::span<float>>(one_plane), h);
          }) == coaudio::errc::invalid_channels);
    CHECK(outcome(io, [&](auto h) {
              in.async_read_frames(std::span<const std::span<float>>(uneven), h);
          }) == coaudio::errc::not_whole_frames);
    CHECK(outcome(io, [&](auto h) { out.async_write_some(asio::buffer(byte), h); }) ==
          coaudio::errc::not_whole_frames);
    CHECK(outcome(io, [&](auto h) { out.async_write_frames(std::span(four), h); }) ==
          coaudio::errc::format_mismatch);
    CHECK(outcome(io, [&](auto h) { out.async_write_frames(std::span(shorts).first(3), h); }) ==
          coaudio::errc::not_whole_frames);
    // Still usable: a proper read and write work.
    dev.step(1);
    CHECK_FALSE(outcome(io, [&](auto h) { in.async_read_frames(std::span(four), h); }));
    CHECK_FALSE(outcome(io, [&](auto h) { out.async_write_frames(std::span(shorts), h); }));
    // Empty buffers complete at once with nothing, as Asio's streams do.
    std::size_t n = 99;
    CHECK_FALSE(outcome(io, [&](auto h) {
        in.async_read_some(asio::mutable_buffer(), [h, &n](std::error_code e, std::size_t got) {
            n = got;
            h(e);
        });
    }));
    CHECK(n == 0);
}

TEST_CASE("configurations and lookups with invalid values are refused")
{
    asio::io_context io;
    coaudio::virtual_device dev;
    coaudio::input_stream in(io);
    CHECK_THROWS_AS(dev.open(in, {.channels = 0}), std::system_error);
    CHECK_FALSE(in.is_open());
    CHECK_THROWS_AS(coaudio::detail::core_access::open(in, nullptr), std::system_error);
    std::error_code ec;
    coaudio::device(-1, ec);
    CHECK(ec == coaudio::errc::device_not_found);
    CHECK_THROWS_AS(coaudio::select_device({}, "anything"), std::system_error);
    coaudio::check_input_settings({.channels = -5}, ec);
    CHECK(ec); // no device at all here, or invalid channels: an error either way
    CHECK_FALSE(ec.message().empty());
    coaudio::check_output_settings({.sample_rate = -1.0}, ec);
    CHECK(ec);
    // A lost virtual device takes no new streams.
    dev.lose();
    coaudio::output_stream out(io);
    CHECK_THROWS_AS(dev.open(out), std::system_error);
}

TEST_CASE("int24_t keeps every value of its range")
{
    for (std::int32_t v : {-8388608, -1, 0, 1, 8388607, 123456, -654321})
        CHECK(coaudio::int24_t(v).value() == v);
}
