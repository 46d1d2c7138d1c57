// The audio server dies under pending operations: they complete with
// device_lost instead of hanging. This test starts and kills a JACK server of
// its own, so the shared fixture server is never touched.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/private_jack.hpp"

#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

TEST_CASE("a killed audio server fails a pending read and a pending write with device_lost")
{
    test::private_jack_server server("coaudio-server-loss");
    coaudio::library lib;
    asio::io_context io;
    const coaudio::stream_config cfg{.device = test::jack_device_index(),
                                     .channels = 1,
                                     .sample_rate = 48000,
                                     .frames_per_block = 256};
    coaudio::input_stream in(io, cfg);
    coaudio::output_stream out(io, cfg);
    coaudio::input_stream idle(io, cfg); // running, with nothing pending when the server dies
    in.start();
    out.start();
    idle.start();

    std::vector<float> second(48000), big(out.ring_capacity() * 4);
    std::optional<std::error_code> read_ec, write_ec;
    std::chrono::steady_clock::time_point killed, read_done, write_done;
    // A read may also end early, successfully, where the server reported an
    // xrun (a busy machine, valgrind): then it is simply issued again.
    std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec,
                                                                    std::size_t) {
        if (!ec) return in.async_read_frames(std::span(second), on_read);
        read_ec = ec;
        read_done = std::chrono::steady_clock::now();
    };
    in.async_read_frames(std::span(second), on_read);
    out.async_write_frames(std::span(big), [&](std::error_code ec, std::size_t) {
        write_ec = ec;
        write_done = std::chrono::steady_clock::now();
    });
    asio::steady_timer timer(io, std::chrono::milliseconds(300));
    timer.async_wait([&](std::error_code) {
        server.kill();
        killed = std::chrono::steady_clock::now();
    });
    io.run_for(std::chrono::seconds(10));

    REQUIRE(read_ec);
    REQUIRE(write_ec);
    CHECK(*read_ec == coaudio::errc::device_lost);
    CHECK(*write_ec == coaudio::errc::device_lost);
    const auto ms = [&](auto t) {
        return std::chrono::duration<double, std::milli>(t - killed).count();
    };
    INFO("read failed " << ms(read_done) << " ms after the kill, write " << ms(write_done)
                        << " ms");
    // JACK's client notices a dead server within about a second; the
    // watchdog adds at most one period on top.
    CHECK(ms(read_done) < 2000);
    CHECK(ms(write_done) < 2000);
    CHECK_FALSE(in.is_active());
    std::error_code ec;
    in.start(ec);
    CHECK(ec == coaudio::errc::device_lost);

    // Later operations fail the same way, at once, and closing does not hang.
    std::optional<std::error_code> again;
    in.async_read_frames(std::span(second), [&](std::error_code e, std::size_t) { again = e; });
    io.restart();
    io.run_for(std::chrono::seconds(2));
    REQUIRE(again);
    CHECK(*again == coaudio::errc::device_lost);
    const auto t0 = std::chrono::steady_clock::now();
    in.close();
    out.close();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));

    // No watchdog ever looked at the idle stream; stopping and closing it must
    // not hand it to PortAudio's JACK host, which would wait ten minutes.
    const auto t1 = std::chrono::steady_clock::now();
    idle.stop(ec);
    CHECK((!ec || ec == coaudio::errc::device_lost));
    idle.close();
    CHECK(std::chrono::steady_clock::now() - t1 < std::chrono::seconds(1));
    CHECK_FALSE(idle.is_open());
}
