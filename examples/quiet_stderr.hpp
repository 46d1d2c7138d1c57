// Shared by the examples: silences PortAudio's host probing.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_QUIET_STDERR_HPP
#define COAUDIO_EXAMPLES_QUIET_STDERR_HPP

#include <coaudio/library.hpp>

#include <cstdio>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

// ALSA and JACK print every device they probe and fail to reach while
// PortAudio initialises: on a machine without a sound card a program would
// open with a screenful of that. While one of these lives, standard error
// goes to /dev/null.
class quiet_stderr {
public:
    quiet_stderr()
    {
        std::fflush(stderr);
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0) return;
        saved_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved_ >= 0) ::dup2(null, STDERR_FILENO);
        ::close(null);
    }
    ~quiet_stderr()
    {
        if (saved_ < 0) return;
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
    }
    quiet_stderr(const quiet_stderr&) = delete;
    quiet_stderr& operator=(const quiet_stderr&) = delete;

private:
    int saved_ = -1;
};

// PortAudio, initialised with its probing kept off the terminal.
inline coaudio::library quiet_library(std::error_code& ec)
{
    quiet_stderr quiet;
    return coaudio::library(ec);
}

#endif
