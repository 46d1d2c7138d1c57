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

#if defined(ASIO_DISABLE_EPOLL)
// The build that stands in for macOS and the BSDs (preset posix) must really
// run Asio's portable reactor, not epoll.
static_assert(std::is_same_v<asio::detail::reactor, asio::detail::select_reactor>);
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
