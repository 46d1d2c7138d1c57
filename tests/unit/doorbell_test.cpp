// The doorbell the audio thread rings: the kind each platform build gets, and
// rings that coalesce however many come before a drain, even past a full pipe.
#include <coaudio/detail/doorbell.hpp>

#include "support/catch.hpp"

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <poll.h>
#  include <sys/stat.h>
#endif

#if defined(ASIO_DISABLE_EPOLL)
#  include <asio/io_context.hpp>
// (after the public header that completes it)
#  include <asio/detail/reactor.hpp>

#  include <type_traits>
#endif

#if defined(COAUDIO_TEST_IO_URING)
#  include <asio/io_context.hpp>
#  include <asio/posix/stream_descriptor.hpp>

#  include <chrono>
#  include <system_error>
// (after the public headers that complete it)
#  include <asio/detail/io_uring_service.hpp>
#endif

namespace {

// Rung and not yet drained: the event signalled, the descriptor readable.
#if defined(_WIN32)
bool readable(HANDLE event)
{
    return ::WaitForSingleObject(event, 0) == WAIT_OBJECT_0;
}
#else
bool readable(int fd)
{
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}
#endif

} // namespace

TEST_CASE("the doorbell is an eventfd on Linux, a pipe on other POSIX systems or when asked for, "
          "an event on Windows")
{
    coaudio::detail::doorbell bell;
#if defined(_WIN32)
    // A waitable handle of its own.
    CHECK(bell.native_handle() != nullptr);
    CHECK(::WaitForSingleObject(bell.native_handle(), 0) == WAIT_TIMEOUT);
#else
    struct stat st {};
    REQUIRE(::fstat(bell.native_handle(), &st) == 0);
#  if defined(__linux__) && !defined(COAUDIO_DOORBELL_USE_PIPE)
    CHECK_FALSE(S_ISFIFO(st.st_mode));
#  else
    CHECK(S_ISFIFO(st.st_mode));
#  endif
#endif
}

#if defined(ASIO_DISABLE_EPOLL) && !defined(ASIO_HAS_IO_URING)
// The build that stands in for macOS and the BSDs (preset posix) must really
// run Asio's portable reactor, not epoll.
static_assert(std::is_same_v<asio::detail::reactor, asio::detail::select_reactor>);
#endif

#if defined(COAUDIO_TEST_IO_URING)
// COAUDIO_IO_URING=ON must put the whole io_context on io_uring: with
// ASIO_HAS_IO_URING alone Asio keeps epoll for descriptors, the doorbell's
// wait among them, and only files go through io_uring.
#  if !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#    error "COAUDIO_IO_URING=ON, but Asio does not run its io_context on io_uring"
#  endif
static_assert(std::is_same_v<asio::detail::reactor, asio::detail::null_reactor>);

TEST_CASE("with COAUDIO_IO_URING the doorbell's wait is an io_uring request that a ring completes")
{
    coaudio::detail::doorbell bell;
    asio::io_context io;
    asio::posix::stream_descriptor waiter(io, bell.waiter_handle());
    CHECK(asio::has_service<asio::detail::io_uring_service>(io));

    // As a parked operation waits there (detail/stream_impl.hpp): a poll,
    // then a drain.
    int woken = 0;
    waiter.async_wait(asio::posix::descriptor_base::wait_read, [&](std::error_code ec) {
        CHECK_FALSE(ec);
        bell.drain();
        ++woken;
    });
    // Nothing rang yet: the wait stays parked. (poll() may run Asio's own
    // operation that submits the request.)
    io.poll();
    CHECK(woken == 0);
    bell.ring();
    io.run_for(std::chrono::seconds(5));
    CHECK(woken == 1);
    CHECK_FALSE(readable(bell.native_handle()));
    // The doorbell keeps its descriptor.
    waiter.release();
}
#endif

TEST_CASE(
    "rings coalesce: any number before a drain make one wake-up, and a drain silences them all")
{
    coaudio::detail::doorbell bell;
    CHECK_FALSE(readable(bell.native_handle()));
    bell.ring();
    CHECK(readable(bell.native_handle()));
    bell.drain();
    CHECK_FALSE(readable(bell.native_handle()));

    // More rings than a pipe holds (64 KiB on Linux, 16 KiB on macOS): the
    // ones that find it full are dropped, which costs nothing, since a full
    // pipe is readable anyway. One drain empties it. (An event or an eventfd
    // just stays signalled.)
    for (int i = 0; i < 200'000; ++i)
        bell.ring();
    CHECK(readable(bell.native_handle()));
    bell.drain();
    CHECK_FALSE(readable(bell.native_handle()));

    // And it still rings after that.
    bell.ring();
    CHECK(readable(bell.native_handle()));
}
