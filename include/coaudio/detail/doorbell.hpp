// coaudio: the audio thread's non-blocking wake-up for the io_context.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_DOORBELL_HPP
#define COAUDIO_DETAIL_DOORBELL_HPP

#include <coaudio/detail/namespace.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

#if defined(_WIN32)
#  include <coaudio/detail/windows.hpp>
#else
#  include <fcntl.h>
#  include <poll.h>
#  include <unistd.h>
// An eventfd on Linux; the pipe that every other POSIX system (macOS, the
// BSDs) gets. COAUDIO_DOORBELL_USE_PIPE selects the pipe on Linux too, so that
// path is built and tested where CI runs (preset posix).
#  if defined(__linux__) && !defined(COAUDIO_DOORBELL_USE_PIPE)
#    define COAUDIO_DOORBELL_EVENTFD 1
#    include <sys/eventfd.h>
#  endif
#endif

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

#if defined(_WIN32)

/// An event object that a foreign thread signals without blocking,
/// allocating or locking, and that the io_context watches through
/// `asio::windows::basic_object_handle`. Manual-reset, so that it behaves
/// like the eventfd: rings coalesce (any number of SetEvent calls before a
/// drain leave it signalled once), nothing but `drain()` unsignals it, and a
/// ring after the drain leaves it signalled for the next wait. An auto-reset
/// event would instead be unsignalled by the wait itself, on a thread of
/// Asio's, which gains nothing: the parked operation drains before it looks
/// at the ring either way.
class doorbell {
public:
    doorbell()
    {
        event_ = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
        if (event_ == nullptr)
            throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                    "coaudio: CreateEventW");
    }

    doorbell(const doorbell&) = delete;
    doorbell& operator=(const doorbell&) = delete;

    ~doorbell() { ::CloseHandle(event_); }

    /// Safe on any thread, including a real-time one: one SetEvent, which
    /// does not block. Setting a signalled event changes nothing.
    void ring() noexcept { ::SetEvent(event_); }

    /// Consumes all pending rings so the event is quiet again. io thread only.
    void drain() noexcept { ::ResetEvent(event_); }

    /// Blocks until the doorbell rings or `timeout` passes; true when rung.
    /// For a thread that waits outside the io_context (a stop that waits for
    /// a drain); it leaves the ring for `drain()`.
    bool wait_for(std::chrono::milliseconds timeout) noexcept
    {
        return ::WaitForSingleObject(event_, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
    }

    /// The event. The doorbell keeps it.
    HANDLE native_handle() const noexcept { return event_; }

    /// A new handle to the same event, for an `asio::windows::object_handle`:
    /// that closes whatever it holds and has no `release()`, so the waiter
    /// owns the duplicate and the doorbell keeps the original.
    HANDLE waiter_handle() const
    {
        HANDLE copy = nullptr;
        const HANDLE self = ::GetCurrentProcess();
        if (!::DuplicateHandle(self, event_, self, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
            throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                    "coaudio: DuplicateHandle");
        return copy;
    }

private:
    HANDLE event_ = nullptr;
};

#else

/// A descriptor that a foreign thread makes readable without blocking,
/// allocating or locking, and that a parked operation reads with
/// `async_read_some` (stream_impl.hpp): the read that wakes it is the drain.
/// An eventfd on Linux, a non-blocking pipe on other POSIX systems. Rings
/// coalesce: any number of them before a read make the descriptor readable
/// once; one read of an eventfd takes them all, of a pipe up to its buffer.
class doorbell {
public:
    doorbell()
    {
#  if defined(COAUDIO_DOORBELL_EVENTFD)
        read_fd_ = write_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (read_fd_ < 0)
            throw std::system_error(errno, std::generic_category(), "coaudio: eventfd");
#  else
        int fds[2];
        if (::pipe(fds) != 0)
            throw std::system_error(errno, std::generic_category(), "coaudio: pipe");
        for (int fd : fds) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        read_fd_ = fds[0];
        write_fd_ = fds[1];
#  endif
    }

    doorbell(const doorbell&) = delete;
    doorbell& operator=(const doorbell&) = delete;

    ~doorbell()
    {
        if (write_fd_ != read_fd_) ::close(write_fd_);
        ::close(read_fd_);
    }

    /// Safe on any thread, including a real-time one: one non-blocking
    /// write(2). A full pipe already means "readable", so EAGAIN is success.
    void ring() noexcept
    {
#  if defined(COAUDIO_DOORBELL_EVENTFD)
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(write_fd_, &one, sizeof one);
#  else
        const char one = 1;
        [[maybe_unused]] auto n = ::write(write_fd_, &one, 1);
#  endif
    }

    /// Consumes all pending rings so the descriptor is quiet again, for a
    /// thread that waits with `wait_for` (the io side's read drains by itself).
    void drain() noexcept
    {
#  if defined(COAUDIO_DOORBELL_EVENTFD)
        // One read returns and clears the whole eventfd count: a second would
        // only cost a syscall on every wake-up.
        std::uint64_t count;
        [[maybe_unused]] auto n = ::read(read_fd_, &count, sizeof count);
#  else
        char buf[64];
        while (::read(read_fd_, buf, sizeof buf) > 0) {
        }
#  endif
    }

    /// Blocks until the doorbell rings or `timeout` passes; true when rung.
    /// For a thread that waits outside the io_context (a stop that waits for
    /// a drain); it leaves the ring for `drain()`.
    bool wait_for(std::chrono::milliseconds timeout) noexcept
    {
        ::pollfd p{read_fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
    }

    /// The descriptor to wait on for readability.
    int native_handle() const noexcept { return read_fd_; }

    /// The descriptor for an `asio::posix::stream_descriptor`, which must
    /// `release()` it rather than close it: the doorbell keeps it.
    int waiter_handle() const noexcept { return read_fd_; }

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
};

#endif

} // namespace coaudio::detail

#undef COAUDIO_DOORBELL_EVENTFD

#endif
