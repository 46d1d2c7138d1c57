// Shared by the examples: standard descriptors that are safe to use, a
// closed pipe that ends a program quietly, and PortAudio's host probing kept
// off the terminal.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_COMMON_STDIO_HPP
#define COAUDIO_EXAMPLES_COMMON_STDIO_HPP

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#if defined(_WIN32)
#  include <io.h> // the CRT's _open, _dup, _dup2, _close and _get_osfhandle
#else
#  include <unistd.h>
#endif

namespace examples {

// Exit statuses, the same in every example (64 is EX_USAGE of <sysexits.h>).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;    // failed while running: a lost server, a full disk
inline constexpr int exit_no_device = 2; // no device, or none that takes the settings
inline constexpr int exit_usage = 64;    // a bad command line

// Run before anything else touches a descriptor:
//   - Descriptors 0, 1 and 2 are open. A program started with one of them
//     closed (`meter >&-`) would otherwise hand that number to the next file
//     it opens (JACK's metadata database, say), and its output would then
//     land in that file. A closed one is opened on /dev/null.
//   - A write to a pipe whose reader has gone (`meter | head -1`) fails with
//     EPIPE instead of killing the program, whatever libjack does to the
//     signal mask: the programs check what they write and end quietly, with
//     the terminal restored. See stdout_open(). (Windows has no SIGPIPE:
//     a write to such a pipe fails there anyway.)
inline void prepare_stdio() noexcept
{
#if defined(_WIN32)
    // A GUI parent or a service may start a program without standard
    // handles; the CRT's descriptors 0 to 2 then have no handle behind them.
    for (int fd = 0; fd <= 2; ++fd) {
        if (::_get_osfhandle(fd) != -1) continue;
        const int null = ::_open("NUL", _O_RDWR);
        if (null >= 0 && null != fd) {
            ::_dup2(null, fd);
            ::_close(null);
        }
    }
#else
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        const int null = ::open("/dev/null", O_RDWR); // the lowest free number: `fd`
        if (null >= 0 && null != fd) {
            ::dup2(null, fd);
            ::close(null);
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
#endif
}

// The errno of standard output's last failed flush; 0 while none failed.
inline int& stdout_error() noexcept
{
    static int error = 0;
    return error;
}

// Flushes standard output; false once it no longer takes what is written
// (its reader has gone, or the disk is full). A program that writes as it
// runs stops when this turns false.
inline bool stdout_open() noexcept
{
    if (std::fflush(stdout) == 0) return true;
    stdout_error() = errno;
    return false;
}

// The exit status to end with: `status`, unless standard output failed for
// another reason than a reader that has gone (a full disk), which is said.
inline int finish(const char* program, int status) noexcept
{
    stdout_open();
    const int error = stdout_error();
    if (error == 0 || error == EPIPE) return status;
    std::fprintf(stderr, "%s: cannot write standard output: %s\n", program, std::strerror(error));
    return status == exit_ok ? exit_failed : status;
}

// ALSA and JACK print every device they probe and fail to reach while
// PortAudio initialises and opens streams ("ALSA lib ...", "Cannot connect to
// server ..."): on a machine without a sound card a program would open with a
// screenful of that. While an active one of these lives, standard error goes
// to /dev/null; `--verbose` makes them inactive.
class quiet_stderr {
public:
    explicit quiet_stderr(bool active = true)
    {
        if (!active) return;
        std::fflush(stderr);
#if defined(_WIN32)
        const int null = ::_open("NUL", _O_WRONLY | _O_NOINHERIT);
        if (null < 0) return;
        saved_ = ::_dup(2);
        if (saved_ >= 0) ::_dup2(null, 2);
        ::_close(null);
#else
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0) return;
        saved_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved_ >= 0) ::dup2(null, STDERR_FILENO);
        ::close(null);
#endif
    }
    ~quiet_stderr()
    {
        release();
    }
    quiet_stderr(const quiet_stderr&) = delete;
    quiet_stderr& operator=(const quiet_stderr&) = delete;

    // Standard error back where it was, before the guard goes.
    void release() noexcept
    {
        if (saved_ < 0) return;
#if defined(_WIN32)
        ::_dup2(saved_, 2);
        ::_close(saved_);
#else
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
#endif
        saved_ = -1;
    }

private:
    int saved_ = -1;
};

} // namespace examples

#endif
