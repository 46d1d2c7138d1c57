// coaudio benchmarks: a private JACK server (dummy driver) for the runs on
// JACK, and PortAudio's device for it.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_BENCH_JACK_HPP
#define COAUDIO_BENCH_JACK_HPP

#include "bench.hpp"

#include <portaudio.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace bench {

namespace fs = std::filesystem;

inline bool process_alive(pid_t pid)
{
    int status;
    return ::waitpid(pid, &status, WNOHANG) == 0;
}

/// Runs `argv` with stdout and stderr to /dev/null; true if it exits 0 within `seconds`.
inline bool run_quietly(const std::vector<std::string>& args, double seconds)
{
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    const auto deadline = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
    int status = 0;
    for (;;) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (now_ns() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return false;
        }
        ::usleep(10'000);
    }
}

/// A private jackd with the dummy driver: started for one phase, stopped by
/// its PID only (SIGTERM, then SIGKILL after a timeout). Its PID is also
/// written to a file so that run.sh can clean up should this process die.
class jack_server {
public:
    jack_server(std::string jackd, std::string lsp, const fs::path& out, int period)
        : jackd_(std::move(jackd)), lsp_(std::move(lsp)),
          name_("coaudio-bench-" + std::to_string(::getpid()) + "-" + std::to_string(period)),
          period_(period), log_(out / ("jackd-" + std::to_string(period) + ".log")),
          pidfile_(out / ("jackd-" + std::to_string(period) + ".pid"))
    {
    }
    jack_server(const jack_server&) = delete;
    jack_server& operator=(const jack_server&) = delete;
    ~jack_server() { stop(); }

    const std::string& name() const { return name_; }

    bool start()
    {
        ::setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
        const std::string period = std::to_string(period_);
        const pid_t pid = ::fork();
        if (pid < 0) return false;
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM); // never outlive the benchmark
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            const int null = ::open("/dev/null", O_RDONLY);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            if (null >= 0) ::dup2(null, 0);
            ::execlp(jackd_.c_str(), jackd_.c_str(), "--no-realtime", "-n", name_.c_str(), "-d",
                     "dummy", "-r", "48000", "-p", period.c_str(), "-C", "2", "-P", "2",
                     static_cast<char*>(nullptr));
            ::_exit(127);
        }
        pid_ = pid;
        std::ofstream(pidfile_) << pid << ' ' << name_ << '\n';
        for (int i = 0; i < 100; ++i) { // 10 s
            if (!process_alive(pid_)) {
                pid_ = -1;
                fs::remove(pidfile_);
                return false;
            }
            if (run_quietly({lsp_}, 5.0)) return true;
            ::usleep(100'000);
        }
        stop();
        return false;
    }

    void stop()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status;
        bool gone = false;
        for (int i = 0; i < 300 && !gone; ++i) { // 3 s
            gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
            if (!gone) ::usleep(10'000);
        }
        if (!gone) {
            std::fprintf(stderr, "bench: jackd %s survived SIGTERM for 3 s, sending SIGKILL\n",
                         name_.c_str());
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
        std::error_code ec;
        fs::remove(pidfile_, ec);
    }

private:
    std::string jackd_, lsp_, name_;
    int period_;
    fs::path log_, pidfile_;
    pid_t pid_ = -1;
};

/// PortAudio's device for the JACK server's "system" ports.
inline int jack_device()
{
    int fallback = -1;
    for (int i = 0; i < Pa_GetDeviceCount(); ++i) {
        const PaDeviceInfo* d = Pa_GetDeviceInfo(i);
        const PaHostApiInfo* h = d != nullptr ? Pa_GetHostApiInfo(d->hostApi) : nullptr;
        if (h == nullptr || h->type != paJACK || d->maxInputChannels < 1) continue;
        if (std::string(d->name) == "system") return i;
        if (fallback < 0) fallback = i;
    }
    return fallback;
}

} // namespace bench

#endif
