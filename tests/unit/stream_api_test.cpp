// The streams' operations as Asio I/O objects declare theirs: each takes any
// completion token that can take its signature and no other argument, and
// starts through `asio::async_initiate`, so a token of the user's own (here
// one that runs the initiation later, as `deferred` does, and counts that it
// did) works as Asio's do. On the virtual device: no server.
#include <coaudio/coaudio.hpp>
#include <coaudio/virtual_device.hpp>

#include "support/catch.hpp"

#include <asio/async_result.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <span>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t block = 64;

// Which tokens each operation takes: the signature decides, not the name.
using count_handler = void (*)(coaudio::error_code, std::size_t);
using plain_handler = void (*)(coaudio::error_code);

template <class Stream, class Token>
concept reads_with = requires(Stream& s, std::span<float> b, Token t)
{
    s.async_read_frames(b, std::move(t));
};
template <class Stream, class Token>
concept writes_with = requires(Stream& s, std::span<const float> b, Token t)
{
    s.async_write_frames(b, std::move(t));
};
template <class Stream, class Token>
concept drains_with = requires(Stream& s, Token t)
{
    s.async_drain(std::move(t));
};

static_assert(reads_with<coaudio::input_stream, count_handler>);
static_assert(reads_with<coaudio::duplex_stream, count_handler>);
static_assert(!reads_with<coaudio::input_stream, plain_handler>);
static_assert(!reads_with<coaudio::input_stream, int>);
static_assert(!reads_with<coaudio::output_stream, count_handler>); // no read on an output
static_assert(writes_with<coaudio::output_stream, count_handler>);
static_assert(writes_with<coaudio::duplex_stream, count_handler>);
static_assert(!writes_with<coaudio::output_stream, int>);
static_assert(!writes_with<coaudio::input_stream, count_handler>);
static_assert(drains_with<coaudio::output_stream, plain_handler>);
static_assert(!drains_with<coaudio::output_stream, count_handler>);
static_assert(!drains_with<coaudio::input_stream, plain_handler>);

// A completion token of the user's own: its async_result keeps the
// initiation and its arguments, and `launch` starts the operation later.
struct later_t {
    std::function<void()>* launch;
    int* initiated;
};

} // namespace

template <class R, class... Args>
struct asio::async_result<later_t, R(coaudio::error_code, Args...)> {
    template <class Initiation, class... InitArgs>
    static void initiate(Initiation initiation, later_t token, InitArgs... args)
    {
        *token.launch = [initiation = std::move(initiation), token, args...]() mutable {
            ++*token.initiated;
            std::move(initiation)([](coaudio::error_code, Args...) {}, args...);
        };
    }
};

TEST_CASE("stream operations start through async_initiate with any completion token")
{
    asio::io_context io;
    coaudio::virtual_device dev({.sample_rate = 48000, .frames_per_block = block});
    coaudio::input_stream in(io);
    coaudio::output_stream out(io);
    dev.open(in);
    dev.open(out);
    in.start();
    out.start();
    std::vector<float> buf(block, 0.5f);

    SECTION("a token of the user's own runs the initiation when it chooses")
    {
        std::function<void()> launch;
        int initiated = 0;
        out.async_write_frames(std::span<const float>(buf), later_t{&launch, &initiated});
        CHECK(out.frames_writable() == out.ring_capacity()); // not started yet
        REQUIRE(launch);
        launch();
        io.run();
        CHECK(initiated == 1);
        CHECK(out.frames_writable() == out.ring_capacity() - block);
    }
    SECTION("use_future")
    {
        dev.step(1);
        auto got = in.async_read_frames(std::span(buf), asio::use_future);
        io.run();
        CHECK(got.get() == block);
    }
    SECTION("use_future, frames already there: completes on the future's executor, "
            "with no thread running the stream's io_context")
    {
        // As with async_compose: a completion that needs no wait goes to the
        // handler's associated executor (use_future's is the system
        // executor), not through the stream's io_context first.
        dev.step(1);
        auto got = in.async_read_frames(std::span(buf), asio::use_future);
        REQUIRE(got.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
        CHECK(got.get() == block);
        auto put = out.async_write_frames(std::span<const float>(buf), asio::use_future);
        REQUIRE(put.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
        CHECK(put.get() == block);
    }
    SECTION("a plain handler, on a stream not open: the precondition's error, posted")
    {
        coaudio::input_stream closed(io);
        coaudio::error_code ec;
        bool called = false;
        closed.async_read_frames(std::span(buf), [&](coaudio::error_code e, std::size_t) {
            ec = e;
            called = true;
        });
        CHECK(!called); // never inside the initiating function
        io.run();
        CHECK(called);
        CHECK(ec == coaudio::errc::not_open);
    }
}
