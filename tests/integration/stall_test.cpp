// A server that freezes (SIGSTOP of the test's own jackd): callbacks stop and
// no error says so. With a stall timeout a waiting read fails with
// errc::stalled and the stream streams again once the server thaws; without
// one the read simply waits out the freeze.
#include <coaudio/input_stream.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"
#include "support/run.hpp"

#include <asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/types.h>

using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

constexpr double rate = 48000;
constexpr std::size_t block = 256;

pid_t jackd_pid()
{
    const char* file = std::getenv("COAUDIO_JACKD_PID_FILE");
    if (file == nullptr)
        throw std::runtime_error("COAUDIO_JACKD_PID_FILE is not set (run through ctest)");
    std::ifstream in(file);
    pid_t pid = 0;
    if (!(in >> pid) || pid <= 0) throw std::runtime_error(std::string("no pid in ") + file);
    return pid;
}

// Stops the test's server for as long as it lives, and always lets it go on.
class frozen_server {
public:
    frozen_server() : pid_(jackd_pid()) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
    frozen_server(const frozen_server&) = delete;
    frozen_server& operator=(const frozen_server&) = delete;
    ~frozen_server() { thaw(); }
    void thaw()
    {
        if (pid_ != 0) ::kill(pid_, SIGCONT);
        pid_ = 0;
    }

private:
    pid_t pid_;
};

asio::awaitable<std::size_t> read_block(coaudio::input_stream& in)
{
    std::vector<float> buf(block);
    co_return co_await in.async_read_frames(std::span(buf), use_awaitable);
}

// A started mono input stream on the test's JACK server.
coaudio::input_stream started_input(asio::io_context& io, std::chrono::milliseconds stall_timeout)
{
    coaudio::input_stream in(io, {.device = test::jack_device_index(),
                                  .channels = 1,
                                  .sample_rate = rate,
                                  .frames_per_block = block,
                                  .stall_timeout = stall_timeout});
    in.start();
    return in;
}

// Reads what the ring holds, so that the next read has to wait.
asio::awaitable<void> take_what_arrived(coaudio::input_stream& in)
{
    while (const std::size_t n = in.frames_available()) {
        std::vector<float> buf(n);
        co_await in.async_read_frames(std::span(buf), use_awaitable);
    }
}

} // namespace

TEST_CASE("a frozen server fails a waiting read with stalled, and the stream streams again after "
          "it thaws",
          "[realtime]")
{
    asio::io_context io;
    auto in = started_input(io, 500ms);
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            const std::size_t first = co_await read_block(in);
            CHECK(first == block);
            frozen_server freeze;
            co_await take_what_arrived(in);
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<float> buf(block);
            auto [ec, n] =
                co_await in.async_read_frames(std::span(buf), coaudio::as_tuple(use_awaitable));
            const auto waited = std::chrono::steady_clock::now() - t0;
            std::printf("stall timeout 500 ms: the waiting read failed with '%s' after %lld ms\n",
                        ec.message().c_str(),
                        static_cast<long long>(
                            std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
            CHECK(ec == coaudio::errc::stalled);
            CHECK(waited >= 500ms);
            CHECK(waited < 1500ms);
            CHECK(in.is_open());
            freeze.thaw();
            // The server goes on, and so does the stream.
            for (int i = 0; i < 20; ++i) {
                const std::size_t got = co_await read_block(in);
                CHECK(got > 0);
            }
        }(),
        30s);
}

TEST_CASE(
    "without a stall timeout, a read waits out a 5 s freeze of the server and streaming goes on",
    "[realtime]")
{
    asio::io_context io;
    auto in = started_input(io, 0ms);
    test::run(
        io,
        [&]() -> asio::awaitable<void> {
            const std::size_t first = co_await read_block(in);
            CHECK(first == block);
            auto freeze = std::make_unique<frozen_server>();
            co_await take_what_arrived(in);
            // Thaw from another thread after 5 s, as a debugger or the OS would.
            std::thread thaw([&] {
                std::this_thread::sleep_for(5s);
                freeze->thaw();
            });
            const auto t0 = std::chrono::steady_clock::now();
            const std::size_t n = co_await read_block(in);
            const auto waited = std::chrono::steady_clock::now() - t0;
            thaw.join();
            CHECK(n > 0);
            CHECK(waited >= 4s);
            for (int i = 0; i < 20; ++i) {
                const std::size_t got = co_await read_block(in);
                CHECK(got > 0);
            }
        }(),
        60s);
}
