// Shared by the examples: PortAudio started quietly, the device that a
// --device argument names, and why there is none.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_COMMON_DEVICES_HPP
#define COAUDIO_EXAMPLES_COMMON_DEVICES_HPP

#include <coaudio/device.hpp>
#include <coaudio/library.hpp>

#include "command_line.hpp"
#include "stdio.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#if !defined(_WIN32)
#  include <fcntl.h>
#  include <sys/resource.h>
#  include <unistd.h>
#endif

namespace examples {

// What stands against probing the audio hosts, when the process is short
// of file descriptors (`ulimit -n 8`); empty when nothing does. Every host's
// probe would fail, and "no audio device" would send the user to the wrong
// place; worse, libjack's metadata database, opened by ALSA's jack plugin
// too, can deadlock when it runs out of descriptors half-way, holding a lock
// that every later JACK client of the user then waits on.
inline std::string descriptor_shortage()
{
#if defined(_WIN32)
    // Windows' audio hosts open handles, which have no such small limit.
    return {};
#else
    std::vector<int> fds;
    int error = 0;
    for (int i = 0; i < 32 && error == 0; ++i) { // ALSA and JACK open a few dozen while probing
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            fds.push_back(fd);
        else
            error = errno;
    }
    for (int fd : fds)
        ::close(fd);
    if (error != EMFILE && error != ENFILE) return {};
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    return "this process may open only " + std::to_string(limit.rlim_cur) +
           " files (ulimit -n), too few for ALSA and JACK to probe the audio devices";
#endif
}

// Exits 2 with the reason when descriptor_shortage() finds one: PortAudio
// is better not started at all then.
inline void require_descriptors(const command_line& cli)
{
    if (const std::string why = descriptor_shortage(); !why.empty()) {
        std::fprintf(stderr, "%s: %s\n", cli.program().c_str(), why.c_str());
        std::exit(exit_no_device);
    }
}

// PortAudio, initialised once for the whole run with the hosts' probing kept
// off the terminal (unless --verbose). Exits 2 when it cannot start.
inline coaudio::library open_library(const command_line& cli)
{
    require_descriptors(cli);
    std::error_code ec;
    coaudio::library lib = [&] {
        quiet_stderr quiet(!cli.verbose());
        return coaudio::library(ec);
    }();
    if (ec) {
        std::fprintf(stderr, "%s: cannot initialise PortAudio: %s\n", cli.program().c_str(),
                     ec.message().c_str());
        std::exit(exit_no_device);
    }
    return lib;
}

// The `kind` (input or output) device that `arg` names: the host's default
// when there is no `arg`; an index when it is all digits; otherwise a name as
// coaudio::find_device matches it (an exact name, or else the one name that
// contains it, ignoring case). When there is none, `problem` says why.
inline std::optional<coaudio::device_info> device_from_arg(const std::optional<std::string>& arg,
                                                           coaudio::device_kind kind,
                                                           std::string& problem)
{
    const bool input = kind == coaudio::device_kind::input;
    const std::string what = input ? "capture" : "playback";
    std::error_code ec;
    if (!arg) {
        auto d = input ? coaudio::default_input_device(ec) : coaudio::default_output_device(ec);
        if (!d)
            problem = "no " + what + " device: the host has no default " +
                      (input ? "input" : "output") + " device";
        return d;
    }
    if (!arg->empty() &&
        std::all_of(arg->begin(), arg->end(), [](unsigned char c) { return std::isdigit(c); })) {
        const long long index =
            std::strtoll(arg->c_str(), nullptr, 10); // saturates: no UB on overflow
        auto d = coaudio::device(index > 1'000'000 ? -1 : static_cast<int>(index), ec);
        if (!ec && (input ? d.max_input_channels : d.max_output_channels) > 0) return d;
        problem = "device " + *arg + " is not a " + what + " device";
        return std::nullopt;
    }
    auto d = coaudio::find_device(*arg, kind, {}, ec);
    if (ec) {
        problem = "\"" + *arg + "\": " + ec.message();
        return std::nullopt;
    }
    return d;
}

// The device `arg` names, as device_from_arg finds it; when there is none,
// says why and exits 2.
inline coaudio::device_info require_device(const command_line& cli,
                                           const std::optional<std::string>& arg,
                                           coaudio::device_kind kind)
{
    std::string problem;
    auto d = device_from_arg(arg, kind, problem);
    if (!d) {
        std::fprintf(stderr, "%s: %s (see `devices`)\n", cli.program().c_str(), problem.c_str());
        std::exit(exit_no_device);
    }
    return *d;
}

} // namespace examples

#endif
