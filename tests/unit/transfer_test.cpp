// The transfer machines on their own: no io_context, no doorbell wait, no
// handler. The test plays the audio thread (stream_core::process) and the
// driver (calling resume and reading its answer) by hand.
#include <coaudio/detail/transfer.hpp>

#include "support/catch.hpp"

#include <asio/buffer.hpp>

#include <array>
#include <cstddef>
#include <numeric>
#include <vector>

namespace cd = coaudio::detail;

namespace {

constexpr std::size_t ring = 64; // frames

cd::stream_params mono()
{
    cd::stream_params p;
    p.channels = 1;
    p.sample_rate = 48000;
    p.frames_per_block = 16;
    return p;
}

// A running one-direction core over a mono float ring.
struct rig {
    cd::stream_core core;
    explicit rig(cd::direction d) : core(d, mono(), ring) { REQUIRE(!core.start()); }

    // One input callback of `n` frames counting up from `first`.
    void capture(std::size_t n, float first)
    {
        std::vector<float> block(n);
        std::iota(block.begin(), block.end(), first);
        core.process(block.data(), nullptr, n, 0);
    }
    // One output callback of `n` frames; returns what it played.
    std::vector<float> play(std::size_t n)
    {
        std::vector<float> block(n, -1.0f);
        core.process(nullptr, block.data(), n, 0);
        return block;
    }
};

cd::interleaved_target<asio::mutable_buffer> into(std::vector<float>& v)
{
    return {asio::buffer(v), v.size()};
}

// The answer a machine gives, in words a failed CHECK prints.
struct said {
    bool done;
    bool halted; ///< done with the stream's halt_reason()
    std::size_t want;
};
said answer(const cd::next_action& a)
{
    return {a.done(), a.what == cd::next_action::type::halted, a.want};
}

} // namespace

TEST_CASE("a read parks for what it lacks and completes when the callback brings it")
{
    rig r(cd::direction::input);
    std::vector<float> got(40);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> read(into(got), true);
    read.begin(r.core);

    // Nothing captured: park. A transfer waits for half the ring at most
    // (32 frames here), not for all 40 at once.
    auto a = answer(read.resume(r.core));
    CHECK_FALSE(a.done);
    CHECK(a.want == ring / 2);

    r.capture(16, 0);
    a = answer(read.resume(r.core));
    CHECK_FALSE(a.done);
    CHECK(read.frames() == 16);
    CHECK(a.want == 24); // the rest, now below half the ring

    r.capture(16, 16);
    r.capture(16, 32);
    a = answer(read.resume(r.core));
    CHECK(a.done);
    CHECK_FALSE(a.halted);
    CHECK(read.frames() == 40);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == float(i));
}

TEST_CASE("a read of some completes with what is there, one frame or more")
{
    rig r(cd::direction::input);
    std::vector<float> got(40);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> read(into(got), false);
    read.begin(r.core);
    auto a = answer(read.resume(r.core));
    CHECK_FALSE(a.done);
    CHECK(a.want == 1);
    r.capture(5, 0);
    a = answer(read.resume(r.core));
    CHECK(a.done);
    CHECK(read.frames() == 5);
}

TEST_CASE("a read ends where a gap begins, and the next read reports the loss first")
{
    rig r(cd::direction::input);
    r.capture(64, 0);  // the ring is full
    r.capture(16, 64); // all 16 are lost

    struct holder {
        cd::stream_core* core;
        coaudio::read_status last_read;
    } stream{&r.core, {}};
    std::error_code ec;

    std::vector<float> room(32);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> x(into(room), true);
    x.begin(r.core);
    REQUIRE(answer(x.resume(r.core)).done);
    r.capture(8, 80); // the loss is published before these frames

    std::vector<float> first(100);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> a(into(first), true);
    a.begin(r.core);
    auto ans = answer(a.resume(r.core));
    CHECK(ans.done);
    CHECK(a.frames() == 32); // up to the gap, not past it
    a.conclude(stream, ec);
    CHECK_FALSE(ec);
    CHECK(stream.last_read.frames_lost == 0);
    CHECK(first[0] == 32.0f);
    CHECK(first[31] == 63.0f);

    std::vector<float> second(8);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> b(into(second), true);
    b.begin(r.core);
    ans = answer(b.resume(r.core));
    CHECK(ans.done);
    b.conclude(stream, ec);
    CHECK(stream.last_read.frames_lost == 16);
    CHECK(stream.last_read.overflows == 1);
    CHECK(second[0] == 80.0f);
}

TEST_CASE("a read of a stopped stream ends with not_running once the ring is empty")
{
    rig r(cd::direction::input);
    r.capture(4, 0);
    REQUIRE(!r.core.stop());
    std::vector<float> got(8);
    cd::read_transfer<cd::interleaved_target<asio::mutable_buffer>> read(into(got), true);
    read.begin(r.core);
    const auto a = answer(read.resume(r.core));
    CHECK(a.done);
    CHECK(a.halted);
    CHECK(r.core.halt_reason() == coaudio::errc::not_running);
    CHECK(read.frames() == 4);
}

TEST_CASE("a write fills the ring, parks, and goes on as the callback plays")
{
    rig r(cd::direction::output);
    std::vector<float> out(100);
    std::iota(out.begin(), out.end(), 0.0f);
    cd::write_transfer<cd::interleaved_target<asio::mutable_buffer>> write(into(out), true);
    write.begin(r.core);
    auto a = answer(write.resume(r.core));
    CHECK_FALSE(a.done);
    CHECK(write.frames() == ring);
    CHECK(a.want == ring / 2);

    const auto played = r.play(40);
    CHECK(played[0] == 0.0f);
    CHECK(played[39] == 39.0f);
    a = answer(write.resume(r.core));
    CHECK(a.done);
    CHECK_FALSE(a.halted);
    CHECK(write.frames() == 100);
}

TEST_CASE(
    "a drain parks until the callback finishes, and fails on a stopped stream with frames queued")
{
    rig r(cd::direction::output);
    std::vector<float> out(8, 0.5f);
    cd::write_transfer<cd::interleaved_target<asio::mutable_buffer>> write(into(out), true);
    write.begin(r.core);
    REQUIRE(answer(write.resume(r.core)).done);

    cd::drain_transfer drain;
    auto a = answer(drain.resume(r.core));
    CHECK_FALSE(a.done);
    CHECK(a.want > ring); // only the finish wakes it
    CHECK(r.core.state() == cd::run_state::draining);

    r.play(16); // plays the 8, then finds the ring empty while draining
    r.core.finished();
    a = answer(drain.resume(r.core));
    CHECK(a.done);
    CHECK_FALSE(a.halted);

    rig s(cd::direction::output);
    cd::write_transfer<cd::interleaved_target<asio::mutable_buffer>> w2(into(out), true);
    w2.begin(s.core);
    REQUIRE(answer(w2.resume(s.core)).done);
    REQUIRE(!s.core.abort()); // nothing is played: the frames stay queued
    cd::drain_transfer stuck;
    a = answer(stuck.resume(s.core));
    CHECK(a.done);
    CHECK(a.halted);
    CHECK(s.core.halt_reason() == coaudio::errc::not_running);
}
