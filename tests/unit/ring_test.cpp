// coaudio tests: the SPSC frame ring on one thread (capacity, regions, wrap-around,
// frame sizes, and a randomised model check against std::deque).
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/ring.hpp>

#include "support/catch.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <stdexcept>
#include <vector>

namespace {

using coaudio::frame_ring;
using coaudio::ring_regions;

// Byte `i` of the frame with serial number `serial`: every frame of every size
// has distinct, position-dependent content, so a misplaced or torn frame shows.
std::byte pattern(std::uint64_t serial, std::size_t i)
{
    std::uint64_t x = (serial + 1) * 0x9E3779B97F4A7C15ull + (i + 1) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 29;
    return static_cast<std::byte>(x & 0xff);
}

void fill_frame(std::byte* p, std::uint64_t serial, std::size_t fb)
{
    for (std::size_t i = 0; i < fb; ++i)
        p[i] = pattern(serial, i);
}

bool frame_is(const std::byte* p, std::uint64_t serial, std::size_t fb)
{
    for (std::size_t i = 0; i < fb; ++i)
        if (p[i] != pattern(serial, i)) return false;
    return true;
}

// Frames `first_serial`, `first_serial + 1`, ... laid out contiguously.
std::vector<std::byte> frames_from(std::uint64_t first_serial, std::size_t frames, std::size_t fb)
{
    std::vector<std::byte> v(frames * fb);
    for (std::size_t f = 0; f < frames; ++f)
        fill_frame(v.data() + f * fb, first_serial + f, fb);
    return v;
}

// Writes frame serials into prepared regions, `frames` of them (<= r.frames).
void fill_regions(const ring_regions& r, std::uint64_t first_serial, std::size_t frames,
                  std::size_t fb)
{
    const std::size_t in_first = r.first.size() / fb;
    for (std::size_t f = 0; f < frames; ++f) {
        std::byte* p =
            f < in_first ? r.first.data() + f * fb : r.second.data() + (f - in_first) * fb;
        fill_frame(p, first_serial + f, fb);
    }
}

// The frame at `index` within prepared regions.
const std::byte* frame_in(const ring_regions& r, std::size_t index, std::size_t fb)
{
    const std::size_t in_first = r.first.size() / fb;
    return index < in_first ? r.first.data() + index * fb
                            : r.second.data() + (index - in_first) * fb;
}

// Start of the storage: the first region handed out by a fresh ring.
std::byte* storage_of(frame_ring& ring)
{
    const ring_regions r = ring.prepare_write(1);
    REQUIRE(r.frames == 1);
    return r.first.data();
}

} // namespace

TEST_CASE("frame_ring rounds its capacity up to a power of two", "[ring]")
{
    struct row {
        std::size_t asked, expected;
    };
    const row rows[] = {{0, 1},       {1, 1},       {2, 2},        {3, 4},       {5, 8},
                        {7, 8},       {8, 8},       {9, 16},       {1000, 1024}, {1024, 1024},
                        {1025, 2048}, {4800, 8192}, {65535, 65536}};
    for (const row& r : rows) {
        frame_ring ring(r.asked, 4);
        CHECK(ring.capacity() == r.expected);
        CHECK(ring.frame_bytes() == 4);
    }
}

TEST_CASE("frame_ring starts empty and every slot is usable", "[ring]")
{
    for (std::size_t cap : {1u, 2u, 8u, 64u}) {
        frame_ring ring(cap, 3);
        REQUIRE(ring.capacity() == cap);
        CHECK(ring.read_available() == 0);
        CHECK(ring.write_available() == cap);
        CHECK(ring.write_index() == 0);
        CHECK(ring.read_index() == 0);
        CHECK(ring.readable_from_producer() == 0);
        CHECK(ring.writable_from_consumer() == cap);

        const auto src = frames_from(0, cap + 5, 3);
        CHECK(ring.write(src.data(), cap + 5) == cap); // no wasted slot: all `cap` fit
        CHECK(ring.write_available() == 0);
        CHECK(ring.write(src.data(), 1) == 0);
        CHECK(ring.prepare_write(4).frames == 0);
        CHECK(ring.read_available() == cap);
        CHECK(ring.readable_from_producer() == cap);
        CHECK(ring.writable_from_consumer() == 0);

        std::vector<std::byte> dst((cap + 5) * 3, std::byte{0xEE});
        CHECK(ring.read(dst.data(), cap + 5) == cap);
        for (std::size_t f = 0; f < cap; ++f)
            CHECK(frame_is(dst.data() + f * 3, f, 3));
        for (std::size_t i = cap * 3; i < dst.size(); ++i)
            CHECK(dst[i] == std::byte{0xEE}); // nothing past
        CHECK(ring.read(dst.data(), 1) == 0);
        CHECK(ring.write_index() == cap);
        CHECK(ring.read_index() == cap);
        CHECK(ring.write_available() == cap);
    }
}

TEST_CASE("frame_ring rejects zero-byte frames", "[ring]")
{
    CHECK_THROWS_AS(frame_ring(16, 0), std::invalid_argument);
}

TEST_CASE("prepare_write and prepare_read hand out two regions across the end", "[ring]")
{
    constexpr std::size_t fb = 4;
    frame_ring ring(8, fb);
    REQUIRE(ring.capacity() == 8);
    std::byte* const base = storage_of(ring);
    std::byte* const end = base + 8 * fb;

    // Move both indices to 6: two slots before the end.
    const auto src = frames_from(100, 6, fb);
    REQUIRE(ring.write(src.data(), 6) == 6);
    std::vector<std::byte> sink(6 * fb);
    REQUIRE(ring.read(sink.data(), 6) == 6);

    SECTION("a write region that ends exactly at the end has no second part")
    {
        const ring_regions r = ring.prepare_write(2);
        CHECK(r.frames == 2);
        CHECK(r.first.data() == base + 6 * fb);
        CHECK(r.first.size() == 2 * fb);
        CHECK(r.first.data() + r.first.size() == end);
        CHECK(r.second.empty());
    }

    SECTION("a full-ring write wraps: two slots at the end, six at the start")
    {
        const ring_regions w = ring.prepare_write(100);
        REQUIRE(w.frames == 8);
        CHECK(w.first.data() == base + 6 * fb);
        CHECK(w.first.size() == 2 * fb);
        CHECK(w.second.data() == base);
        CHECK(w.second.size() == 6 * fb);
        fill_regions(w, 0, 8, fb);
        ring.commit_write(8);
        CHECK(ring.write_index() == 14);
        CHECK(ring.read_available() == 8);
        CHECK(ring.write_available() == 0);

        const ring_regions r = ring.prepare_read(8);
        REQUIRE(r.frames == 8);
        CHECK(r.first.data() == base + 6 * fb);
        CHECK(r.first.size() == 2 * fb);
        CHECK(r.second.data() == base);
        CHECK(r.second.size() == 6 * fb);
        for (std::size_t f = 0; f < 8; ++f)
            CHECK(frame_is(frame_in(r, f, fb), f, fb));

        // A partial commit: the next prepare starts after the committed frames.
        ring.commit_read(3);
        CHECK(ring.read_index() == 9);
        CHECK(ring.read_available() == 5);
        const ring_regions rest = ring.prepare_read(8);
        REQUIRE(rest.frames == 5);
        CHECK(rest.first.data() == base + 1 * fb);
        CHECK(rest.first.size() == 5 * fb);
        CHECK(rest.second.empty());
        for (std::size_t f = 0; f < 5; ++f)
            CHECK(frame_is(frame_in(rest, f, fb), 3 + f, fb));

        // The three freed slots are the next to be written, at 14 & 7 = 6.
        CHECK(ring.write_available() == 3);
        const ring_regions w2 = ring.prepare_write(8);
        CHECK(w2.frames == 3);
        CHECK(w2.first.data() == base + 6 * fb);
        CHECK(w2.first.size() == 2 * fb);
        CHECK(w2.second.data() == base);
        CHECK(w2.second.size() == 1 * fb);
    }

    SECTION("a prepared write that is not committed publishes nothing")
    {
        const ring_regions w = ring.prepare_write(4);
        REQUIRE(w.frames == 4);
        fill_regions(w, 0, 4, fb);
        CHECK(ring.read_available() == 0);
        ring.commit_write(1);
        CHECK(ring.read_available() == 1);
        std::vector<std::byte> dst(4 * fb);
        CHECK(ring.read(dst.data(), 4) == 1);
        CHECK(frame_is(dst.data(), 0, fb));
    }
}

TEST_CASE("frames of 3, 8 and 12 bytes survive every wrap position", "[ring]")
{
    for (std::size_t fb : {3u, 8u, 12u}) {
        constexpr std::size_t cap = 16;
        for (std::size_t offset = 0; offset < cap; ++offset) {
            frame_ring ring(cap, fb);
            REQUIRE(ring.capacity() == cap);
            std::byte* const base = storage_of(ring);

            // Advance both indices to `offset`.
            const auto lead = frames_from(1000, offset, fb);
            REQUIRE(ring.write(lead.data(), offset) == offset);
            std::vector<std::byte> sink(cap * fb);
            REQUIRE(ring.read(sink.data(), offset) == offset);

            // A full ring's worth through prepare_write: split exactly at the end.
            const ring_regions w = ring.prepare_write(cap);
            REQUIRE(w.frames == cap);
            CHECK(w.first.data() == base + offset * fb);
            CHECK(w.first.size() == (cap - offset) * fb);
            CHECK(w.second.size() == offset * fb);
            if (offset != 0) CHECK(w.second.data() == base);
            fill_regions(w, 0, cap, fb);
            ring.commit_write(cap);

            // Read back with the copying API in two uneven pieces.
            std::vector<std::byte> out(cap * fb, std::byte{0xEE});
            const std::size_t a = (offset * 7 + 3) % cap;
            REQUIRE(ring.read(out.data(), a) == a);
            REQUIRE(ring.read(out.data() + a * fb, cap) == cap - a);
            for (std::size_t f = 0; f < cap; ++f) {
                INFO("fb " << fb << " offset " << offset << " frame " << f);
                CHECK(frame_is(out.data() + f * fb, f, fb));
            }

            // And the copying write across the end, read back through prepare_read.
            const auto src = frames_from(500, cap, fb);
            REQUIRE(ring.write(src.data(), cap) == cap);
            const ring_regions r = ring.prepare_read(cap);
            REQUIRE(r.frames == cap);
            CHECK(r.first.size() + r.second.size() == cap * fb);
            for (std::size_t f = 0; f < cap; ++f)
                CHECK(frame_is(frame_in(r, f, fb), 500 + f, fb));
            ring.commit_read(cap);
            CHECK(ring.read_available() == 0);
        }
    }
}

// The consumer's count is documented as "frames that can be read now" and the
// producer's as the free space now: exact on one thread, even when the side's
// cached copy of the other index is stale but not exhausted.
TEST_CASE("read_available and write_available count what the other side did since", "[ring]")
{
    frame_ring ring(16, 4);
    const auto src = frames_from(0, 16, 4);
    std::vector<std::byte> dst(16 * 4);

    SECTION("consumer")
    {
        REQUIRE(ring.write(src.data(), 4) == 4);
        REQUIRE(ring.read(dst.data(), 1) == 1); // the consumer now caches write index 4
        REQUIRE(ring.write(src.data(), 8) == 8);
        CHECK(ring.readable_from_producer() == 11);
        CHECK(ring.read_available() == 11);
    }
    SECTION("producer")
    {
        REQUIRE(ring.write(src.data(), 16) == 16);
        REQUIRE(ring.read(dst.data(), 4) == 4);
        REQUIRE(ring.write(src.data(), 1) == 1); // the producer now caches read index 4
        REQUIRE(ring.read(dst.data(), 8) == 8);
        CHECK(ring.writable_from_consumer() == 11);
        CHECK(ring.write_available() == 11);
    }
}

TEST_CASE("frame_ring matches a std::deque model on random operation sequences", "[ring][model]")
{
    constexpr int seeds = 20;
    constexpr int ops_per_seed = 10000;
    const std::size_t frame_sizes[] = {1, 2, 3, 4, 8, 12, 24};

    for (int seed = 1; seed <= seeds; ++seed) {
        std::mt19937_64 rng(static_cast<std::uint64_t>(seed) * 7919u);
        auto uniform = [&](std::size_t lo, std::size_t hi) {
            return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
        };
        const std::size_t fb = frame_sizes[uniform(0, std::size(frame_sizes) - 1)];
        const std::size_t asked = uniform(1, 48);
        frame_ring ring(asked, fb);
        const std::size_t cap = ring.capacity();
        REQUIRE(cap >= asked);
        REQUIRE((cap & (cap - 1)) == 0);

        std::deque<std::uint64_t> model; // serials of the frames in the ring, oldest first
        std::uint64_t next_serial = 0;
        std::uint64_t writes = 0, reads = 0;
        std::vector<std::byte> buf;
        std::uint64_t bad = 0; // mismatches, counted rather than CHECKed one by one
        int first_bad_op = -1;
        auto fail = [&](int op) {
            if (bad++ == 0) first_bad_op = op;
        };

        for (int op = 0; op < ops_per_seed; ++op) {
            const std::size_t n = uniform(0, cap + 2);
            const std::size_t free_now = cap - model.size();
            switch (uniform(0, 3)) {
            case 0: { // write
                buf = frames_from(next_serial, n, fb);
                const std::size_t k = ring.write(buf.data(), n);
                if (k != std::min(n, free_now)) fail(op);
                for (std::size_t i = 0; i < k; ++i)
                    model.push_back(next_serial + i);
                next_serial += k;
                writes += k;
                break;
            }
            case 1: { // read
                buf.assign((n + 1) * fb, std::byte{0xEE});
                const std::size_t k = ring.read(buf.data(), n);
                if (k != std::min(n, model.size())) fail(op);
                for (std::size_t i = 0; i < k && !model.empty(); ++i) {
                    if (!frame_is(buf.data() + i * fb, model.front(), fb)) fail(op);
                    model.pop_front();
                }
                for (std::size_t i = k * fb; i < buf.size(); ++i)
                    if (buf[i] != std::byte{0xEE}) fail(op); // copied past what it returned
                reads += k;
                break;
            }
            case 2: { // prepare_write + partial commit
                const ring_regions r = ring.prepare_write(n);
                if (r.frames != std::min(n, free_now)) fail(op);
                if (r.first.size() + r.second.size() != r.frames * fb) fail(op);
                if (r.first.size() % fb != 0) fail(op);
                const std::size_t start = static_cast<std::size_t>(ring.write_index()) & (cap - 1);
                if (!r.second.empty() && r.first.size() != (cap - start) * fb) fail(op);
                const std::size_t k = r.frames == 0 ? 0 : uniform(0, r.frames);
                fill_regions(r, next_serial, k, fb);
                ring.commit_write(k);
                for (std::size_t i = 0; i < k; ++i)
                    model.push_back(next_serial + i);
                next_serial += k;
                writes += k;
                break;
            }
            case 3: { // prepare_read, check all offered frames, partial commit
                const ring_regions r = ring.prepare_read(n);
                if (r.frames != std::min(n, model.size())) fail(op);
                if (r.first.size() + r.second.size() != r.frames * fb) fail(op);
                const std::size_t start = static_cast<std::size_t>(ring.read_index()) & (cap - 1);
                if (!r.second.empty() && r.first.size() != (cap - start) * fb) fail(op);
                for (std::size_t i = 0; i < r.frames && i < model.size(); ++i)
                    if (!frame_is(frame_in(r, i, fb), model[i], fb)) fail(op);
                const std::size_t k = r.frames == 0 ? 0 : uniform(0, r.frames);
                ring.commit_read(k);
                for (std::size_t i = 0; i < k && !model.empty(); ++i)
                    model.pop_front();
                reads += k;
                break;
            }
            }

            // Counts: on one thread every view is exact.
            if (ring.readable_from_producer() != model.size()) fail(op);
            if (ring.writable_from_consumer() != cap - model.size()) fail(op);
            if (ring.write_index() != writes || ring.read_index() != reads) fail(op);
            if (ring.read_available() != model.size()) fail(op);
            if (ring.write_available() != cap - model.size()) fail(op);
        }

        // Drain what is left and check it too.
        buf.assign(cap * fb, std::byte{});
        const std::size_t k = ring.read(buf.data(), cap);
        if (k != model.size()) fail(ops_per_seed);
        for (std::size_t i = 0; i < k && i < model.size(); ++i)
            if (!frame_is(buf.data() + i * fb, model[i], fb)) fail(ops_per_seed);

        INFO("seed " << seed << " frame_bytes " << fb << " capacity " << cap << " first bad op "
                     << first_bad_op);
        CHECK(bad == 0);
        CHECK(writes > static_cast<std::uint64_t>(ops_per_seed) / 8); // the sequence did real work
    }
}
