// Real audio on Windows host APIs, run under wine: wine's winepulse driver
// talks to the private PulseAudio server that tests/windows/cross-test.sh
// starts (tests/pulse/desktop-server.sh), whose null sink "loop" wine lists
// as "Null Output" and its monitor as "Monitor of Null Output". A 1 kHz tone
// played into the sink through PortAudio's Windows host API comes back from
// the monitor, as in the Linux desktop tier (tests/pulse/streaming_test.cpp).
// And a server that dies under a pending read and write fails both, with the
// stream still closing at once: the script kills the server when this
// program says it is ready ([server_loss]).
//
// Needs that server: without it wine lists no device and the test fails.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/tone_loopback.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// The host API of the server-loss case: $COAUDIO_WINE_HOST_API, or WASAPI.
std::string loss_host_api()
{
    const char* v = std::getenv("COAUDIO_WINE_HOST_API");
    return v != nullptr && *v != '\0' ? v : "Windows WASAPI";
}

double ms_since(clock_type::time_point t0)
{
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

coaudio::stream_config config(const char* device, coaudio::device_kind kind,
                              const std::string& host_api, const test::loopback_tone& tone)
{
    const auto found = coaudio::find_device(device, kind, host_api);
    std::printf("%s: %d %s (%s)\n", kind == coaudio::device_kind::input ? "input" : "output",
                found.index, found.name.c_str(), found.host_api_name.c_str());
    return {.device = found.index,
            .channels = tone.channels,
            .sample_rate = tone.rate,
            .latency = coaudio::latency_hint::seconds(0.1)};
}

void tone_loopback(const std::string& host_api)
{
    coaudio::library lib;
    const test::loopback_tone tone{.rate = 48000, .channels = 2};
    asio::io_context io;
    coaudio::output_stream out(io,
                               config("Null Output", coaudio::device_kind::output, host_api, tone));
    coaudio::input_stream in(
        io, config("Monitor of Null Output", coaudio::device_kind::input, host_api, tone));
    test::check_tone_loopback(io, in, out, tone);
    std::printf("loopback through %s: ok\n", host_api.c_str());
}

} // namespace

TEST_CASE("WASAPI: a 1 kHz tone played into the null sink comes back from its monitor", "[wasapi]")
{
    tone_loopback("Windows WASAPI");
}

TEST_CASE("DirectSound: a 1 kHz tone played into the null sink comes back from its monitor",
          "[directsound]")
{
    tone_loopback("Windows DirectSound");
}

TEST_CASE("MME: a 1 kHz tone played into the null sink comes back from its monitor", "[mme]")
{
    tone_loopback("MME");
}

// One operation's end: its error, and when it came, in ms after the ready line.
struct ending {
    coaudio::error_code ec;
    double at_ms = 0;
};

TEST_CASE(
    "a server killed under a pending read and write fails both; the stream still closes at once",
    "[server_loss]")
{
    const std::string host_api = loss_host_api();
    const test::loopback_tone tone{.rate = 48000, .channels = 2};
    constexpr auto stall_timeout = 1000ms;
    coaudio::library lib;
    asio::io_context io;
    auto out_config = config("Null Output", coaudio::device_kind::output, host_api, tone);
    auto in_config = config("Monitor of Null Output", coaudio::device_kind::input, host_api, tone);
    // winepulse reports nothing when its server dies; its callbacks stop.
    out_config.stall_timeout = in_config.stall_timeout = stall_timeout;
    std::optional<coaudio::output_stream> out(std::in_place, io, out_config);
    std::optional<coaudio::input_stream> in(std::in_place, io, in_config);
    in->start();
    out->start();

    // Ten seconds each way: both operations stay pending until the server dies.
    std::vector<float> played =
        test::sine(10 * 48000 * 2, tone.frequency, tone.amplitude, tone.rate);
    std::vector<float> captured(played.size());
    std::optional<ending> read_end, write_end;
    clock_type::time_point ready{};
    std::function<void(int)> read; // outlives the coroutine below, which starts it
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            out->async_write_frames(std::span<const float>(played),
                                    [&](coaudio::error_code ec, std::size_t) {
                                        write_end = ending{ec, ms_since(ready)};
                                    });
            // Wait for both directions to flow: wine's capture may take a while
            // to start, and a stream that never ran is no test of a loss.
            asio::steady_timer poll(io);
            const auto give_up = clock_type::now() + 10s;
            while ((in->counters().frames == 0 || out->counters().frames == 0) &&
                   clock_type::now() < give_up) {
                poll.expires_after(20ms);
                co_await poll.async_wait(asio::use_awaitable);
            }
            std::printf("flowing after %.0f ms: %llu frames captured, %llu played\n",
                        ms_since(give_up - 10s),
                        static_cast<unsigned long long>(in->counters().frames),
                        static_cast<unsigned long long>(out->counters().frames));
            REQUIRE(in->counters().frames > 0);
            REQUIRE(out->counters().frames > 0);
            ready = clock_type::now();
            // A read may end early, successfully, at a gap (the ring filled
            // while wine's capture started): read again, at most ten times.
            read = [&](int attempt) {
                in->async_read_frames(std::span(captured),
                                      [&, attempt](coaudio::error_code ec, std::size_t) {
                                          if (!ec && attempt < 10)
                                              read(attempt + 1);
                                          else
                                              read_end = ending{ec, ms_since(ready)};
                                      });
            };
            read(0);
            // The script kills the server on this line.
            std::printf("coaudio-ready-for-kill\n");
            std::fflush(stdout);
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    const auto deadline = clock_type::now() + 30s;
    while (!(read_end && write_end) && clock_type::now() < deadline)
        io.run_one_until(deadline);
    REQUIRE(read_end);
    REQUIRE(write_end);
    std::printf("%s: read ended after %.0f ms (%s), write after %.0f ms (%s)\n", host_api.c_str(),
                read_end->at_ms, read_end->ec.message().c_str(), write_end->at_ms,
                write_end->ec.message().c_str());
    // The kill comes within a poll of the ready line; the stall is seen
    // within a quarter of the timeout after it has passed.
    const double limit_ms = std::chrono::duration<double, std::milli>(stall_timeout).count() + 1500;
    for (const ending* e : {&*read_end, &*write_end}) {
        CHECK((e->ec == coaudio::errc::stalled || e->ec == coaudio::errc::device_lost));
        CHECK(e->at_ms < limit_ms);
    }

    // Stop, close and the destructors return at once, on the io thread and
    // off it. A host may fail the stop of a stream whose server is gone (MME
    // and DirectSound under wine report an unanticipated host error): that
    // is reported, not thrown here, and the stream is stopped all the same.
    coaudio::error_code stop_ec, close_ec, off_thread_ec;
    auto t0 = clock_type::now();
    in->stop(stop_ec);
    const double stop_ms = ms_since(t0);
    t0 = clock_type::now();
    in->close(close_ec);
    const double close_ms = ms_since(t0);
    t0 = clock_type::now();
    in.reset();
    const double destroy_ms = ms_since(t0);
    double off_thread_ms = 0;
    std::thread([&] {
        const auto t = clock_type::now();
        out->stop(off_thread_ec);
        out.reset();
        off_thread_ms = ms_since(t);
    }).join();
    std::printf("stop %.1f ms (%s), close %.1f ms (%s), destructor %.1f ms; off the io thread, "
                "stop (%s) and "
                "destructor %.1f ms\n",
                stop_ms, stop_ec.message().c_str(), close_ms, close_ec.message().c_str(),
                destroy_ms, off_thread_ec.message().c_str(), off_thread_ms);
    CHECK(stop_ms < 500);
    CHECK(close_ms < 500);
    CHECK(destroy_ms < 500);
    CHECK(off_thread_ms < 500);
}
