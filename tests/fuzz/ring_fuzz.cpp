// libFuzzer: random operation sequences on frame_ring, checked against a model.
#include <coaudio/ring.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

namespace {

[[noreturn]] void fail()
{
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) return 0;
    const std::size_t frame_bytes = 1 + data[0] % 12;
    const std::size_t capacity_hint = 1 + data[1] % 64;
    coaudio::frame_ring ring(capacity_hint, frame_bytes);
    if (ring.capacity() < capacity_hint || (ring.capacity() & (ring.capacity() - 1)) != 0) fail();
    std::deque<std::uint8_t> model; // bytes of the frames in the ring
    std::vector<std::uint8_t> buf((ring.capacity() + 3) * frame_bytes);
    std::uint8_t next = 0;
    for (std::size_t i = 2; i + 1 < size; i += 2) {
        const std::uint8_t op = data[i];
        const std::size_t n = data[i + 1] % (ring.capacity() + 3);
        switch (op % 4) {
        case 0: { // write n frames
            for (std::size_t b = 0; b < n * frame_bytes; ++b)
                buf[b] = next++;
            const std::size_t w = ring.write(buf.data(), n);
            const std::size_t room = ring.capacity() - model.size() / frame_bytes;
            if (w != std::min(n, room)) fail();
            model.insert(model.end(), buf.begin(), buf.begin() + std::ptrdiff_t(w * frame_bytes));
            break;
        }
        case 1: { // read n frames
            const std::size_t r = ring.read(buf.data(), n);
            if (r != std::min(n, model.size() / frame_bytes)) fail();
            for (std::size_t b = 0; b < r * frame_bytes; ++b) {
                if (buf[b] != model.front()) fail();
                model.pop_front();
            }
            break;
        }
        case 2: { // prepare_read, commit part of it
            const coaudio::ring_regions reg = ring.prepare_read(n);
            if (reg.first.size() + reg.second.size() != reg.frames * frame_bytes) fail();
            const std::size_t take = reg.frames / 2;
            std::size_t k = 0;
            for (std::span<std::byte> part : {reg.first, reg.second})
                for (std::byte x : part)
                    if (k < take * frame_bytes && std::to_integer<std::uint8_t>(x) != model[k++])
                        fail();
            ring.commit_read(take);
            model.erase(model.begin(), model.begin() + std::ptrdiff_t(take * frame_bytes));
            break;
        }
        default: // counts agree from both sides
            if (ring.read_available() != model.size() / frame_bytes) fail();
            if (ring.write_available() != ring.capacity() - model.size() / frame_bytes) fail();
            if (ring.readable_from_producer() != model.size() / frame_bytes) fail();
            break;
        }
    }
    return 0;
}
