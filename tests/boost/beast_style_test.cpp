// A program written the way a Boost.Beast or Boost.MySQL application is: Boost.Asio
// headers first, a boost::asio::io_context, a boost::asio::steady_timer, and a
// coaudio stream in the same coroutine. Built on coaudio::coaudio-boost and run
// against the private JACK server, output wired back to input.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"

#include <chrono>
#include <cmath>
#include <exception>
#include <numbers>
#include <type_traits>
#include <vector>

namespace net = boost::asio;
using namespace std::chrono_literals;

static_assert(std::is_same_v<coaudio::error_code, boost::system::error_code>);
static_assert(std::is_same_v<coaudio::output_stream::executor_type, net::any_io_executor>);

namespace {

constexpr double rate = 48000;
constexpr std::size_t block = 256;

coaudio::stream_config config()
{
    return {.device = test::jack_device_index(),
            .channels = 1,
            .sample_rate = rate,
            .frames_per_block = block};
}

/// Runs `coro` on `io` to its end, or fails after `limit`.
void run(net::io_context& io, net::awaitable<void> coro, std::chrono::seconds limit = 20s)
{
    bool done = false;
    std::exception_ptr error;
    net::co_spawn(io, std::move(coro), [&](std::exception_ptr e) {
        done = true;
        error = e;
    });
    io.run_for(limit);
    REQUIRE(done);
    if (error) std::rethrow_exception(error);
}

} // namespace

TEST_CASE("A Boost.Asio coroutine plays a tone, waits on a timer and hears the tone back")
{
    coaudio::library lib;
    net::io_context io;
    test::jack_patchbay bay;
    double loudest = 0;
    run(io, [&]() -> net::awaitable<void> {
        auto ex = co_await net::this_coro::executor;
        bay.mark();
        coaudio::output_stream out(ex, config());
        coaudio::input_stream in(ex, config());
        in.start();
        out.start();
        bay.loop_new_ports();
        bay.isolate_new_inputs();

        net::steady_timer timer(ex);
        std::vector<float> tone(block), heard(block);
        std::size_t phase = 0;
        // Half a second of 1 kHz: write a block, read a block, and now and then
        // let a Boost timer run in the same coroutine.
        for (int i = 0; i < int(rate / 2 / block); ++i) {
            for (float& s : tone)
                s = 0.5f * float(std::sin(2 * std::numbers::pi * 1000 * double(phase++) / rate));
            // The stream's default token is Boost's use_awaitable: errors throw.
            co_await out.async_write_frames(std::span<const float>(tone));
            auto [ec, n] = co_await in.async_read_frames(std::span(heard),
                                                         coaudio::as_tuple(net::use_awaitable));
            static_assert(std::is_same_v<decltype(ec), boost::system::error_code>);
            if (ec && ec != coaudio::errc::input_overflow) throw boost::system::system_error(ec);
            loudest = std::max(loudest, coaudio::peak(std::span<const float>(heard).first(n)));
            if (i % 16 == 0) {
                timer.expires_after(1ms);
                co_await timer.async_wait(net::use_awaitable);
            }
        }
        out.close();
        // A failing operation reports a boost::system::error_code that still
        // compares equal to coaudio's errc: Boost's use_awaitable throws it.
        try {
            co_await out.async_write_frames(std::span<const float>(tone));
            FAIL("writing to a closed stream did not fail");
        } catch (const boost::system::system_error& e) {
            CHECK(e.code() == coaudio::errc::not_open);
        }
    }());
    CHECK(loudest > 0.25);
}
