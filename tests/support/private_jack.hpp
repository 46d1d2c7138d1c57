// Test support: a JACK server of a test's own (the dummy driver), killed on
// demand, so that the shared fixture server is never touched. It becomes the
// process's default server (JACK_DEFAULT_SERVER) while it lives.
#ifndef COAUDIO_TESTS_SUPPORT_PRIVATE_JACK_HPP
#define COAUDIO_TESTS_SUPPORT_PRIVATE_JACK_HPP

#include <jack/jack.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace test {

// A jackd with the dummy driver under a name of its own, killed with SIGKILL on demand.
class private_jack_server {
public:
    // A fixed name per test: JACK keeps a killed server's registry slot (eight
    // in all) until a server of the same name starts again, as the destructor does.
    /// `channels`: the dummy driver's capture and playback ports each.
    explicit private_jack_server(std::string name, int channels = 2)
        : name_(std::move(name)), channels_(std::to_string(channels))
    {
        ::setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
        start();
    }
    private_jack_server(const private_jack_server&) = delete;
    private_jack_server& operator=(const private_jack_server&) = delete;
    ~private_jack_server()
    {
        if (pid_ > 0) {
            // Still running: a clean stop gives its registry slot back. A
            // SIGKILL here held one slot per test name until the next run,
            // and with eight in all a later server could then not start.
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            return;
        }
        if (!killed_) return;
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
        const char* argv[] = {
            "jackd", "--no-realtime",   "-n",   name_.c_str(), "-d", "dummy",
            "-r",    "48000",           "-p",   "256",         "-C", channels_.c_str(),
            "-P",    channels_.c_str(), nullptr};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&pid_, "jackd", &actions, nullptr, const_cast<char**>(argv), environ) != 0)
            throw std::runtime_error("cannot start jackd");
        posix_spawn_file_actions_destroy(&actions);
        for (int i = 0; i < 100; ++i) { // until a client can connect
            jack_status_t status{};
            if (jack_client_t* c =
                    jack_client_open("coaudio-loss-probe", JackNoStartServer, &status)) {
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
    std::string channels_;
    pid_t pid_ = -1;
    bool killed_ = false;
};

} // namespace test

#endif
