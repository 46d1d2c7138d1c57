// The audio server dies under pending operations: they complete with
// device_lost instead of hanging. This test starts and kills a JACK server of
// its own, so the shared fixture server is never touched.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/jack_loopback.hpp"

#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

// A jackd with the dummy driver under a name of its own, killed with SIGKILL on demand.
class private_server {
public:
    // A fixed name: JACK keeps a killed server's registry slot (eight in all)
    // until a server of the same name starts again, as the destructor does.
    private_server() : name_("coaudio-server-loss")
    {
        ::setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
        start();
    }
    private_server(const private_server&) = delete;
    private_server& operator=(const private_server&) = delete;
    ~private_server()
    {
        const bool was_killed = killed_;
        kill();
        if (!was_killed) return;
        // Give the killed server's slot back: start one of the same name, stop it cleanly.
        try {
            start();
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        } catch (const std::exception&) {
        }
    }

    void kill()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        killed_ = true;
    }

private:
    void start()
    {
        const char* argv[] = {"jackd", "--no-realtime", "-n", name_.c_str(), "-d", "dummy", "-r", "48000",
                              "-p", "256", "-C", "2", "-P", "2", nullptr};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&pid_, "jackd", &actions, nullptr, const_cast<char**>(argv), environ) != 0)
            throw std::runtime_error("cannot start jackd");
        posix_spawn_file_actions_destroy(&actions);
        for (int i = 0; i < 100; ++i) { // until a client can connect
            jack_status_t status{};
            if (jack_client_t* c = jack_client_open("coaudio-loss-probe", JackNoStartServer, &status)) {
                jack_client_close(c);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        throw std::runtime_error("jackd did not come up");
    }

    std::string name_;
    pid_t pid_ = -1;
    bool killed_ = false;
};

} // namespace

TEST_CASE("a killed audio server fails a pending read and a pending write with device_lost")
{
    private_server server;
    coaudio::library lib;
    asio::io_context io;
    const coaudio::stream_config cfg{.device = test::jack_device_index(), .channels = 1, .sample_rate = 48000,
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
    std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec, std::size_t) {
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
    const auto ms = [&](auto t) { return std::chrono::duration<double, std::milli>(t - killed).count(); };
    INFO("read failed " << ms(read_done) << " ms after the kill, write " << ms(write_done) << " ms");
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
