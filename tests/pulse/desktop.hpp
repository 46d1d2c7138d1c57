// Test support for the desktop server tiers (PulseAudio, PipeWire): the
// PortAudio device that reaches the server, and child processes with deadlines.
//
// The server is private to the test run (tests/pulse/desktop-server.sh); the
// test's environment names it (XDG_RUNTIME_DIR, PULSE_SERVER), and ALSA's
// `pulse` plugin, which PortAudio's ALSA host lists as the device "pulse",
// talks to it: pulseaudio itself or pipewire-pulse.
#ifndef COAUDIO_TESTS_PULSE_DESKTOP_HPP
#define COAUDIO_TESTS_PULSE_DESKTOP_HPP

#include <coaudio/device.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace test {

/// The name of the PortAudio device (ALSA host) that reaches the server.
inline constexpr const char* desktop_device_name = "pulse";

/// The index of that device; throws when PortAudio does not list it.
inline int desktop_device_index()
{
    for (const auto& d : coaudio::devices())
        if (d.name == desktop_device_name && d.host_api_name.find("ALSA") != std::string::npos)
            return d.index;
    throw std::runtime_error(
        "PortAudio lists no ALSA device \"pulse\": is libasound2-plugins installed and "
        "the server of XDG_RUNTIME_DIR running?");
}

/// An environment variable the test's CMake registration must set.
inline std::string required_env(const char* name)
{
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set");
    return v;
}

/// Starts `argv` with this process's environment; its stdout goes to
/// `stdout_fd` (or stays ours when -1), its stderr to /dev/null unless `keep_stderr`.
inline pid_t spawn(const std::vector<std::string>& argv, int stdout_fd = -1,
                   bool keep_stderr = true)
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (!keep_stderr)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::fflush(nullptr); // the child's output comes after ours
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
    return pid;
}

/// Waits up to `limit` for `pid` to exit and returns its exit status; a
/// child still running then is killed and reported as empty. A child killed
/// by a signal reports 128 + the signal, as a shell would.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0) return std::nullopt;
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return std::nullopt;
}

} // namespace test

#endif
