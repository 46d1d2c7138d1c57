// Plays a 440 Hz sine on the default output for two seconds and returns
// once the last frame has been heard.
#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#include <cmath>
#include <cstdio>
#include <numbers>

asio::awaitable<void> play(coaudio::output_stream& out)
{
    const double rate = out.sample_rate();
    std::vector<float> block(512);
    std::size_t t = 0;
    for (int i = 0; i < static_cast<int>(2 * rate / block.size()); ++i) {
        for (float& s : block) s = static_cast<float>(0.2 * std::sin(2 * std::numbers::pi * 440 * double(t++) / rate));
        co_await out.async_write_frames(std::span(block), asio::use_awaitable); // waits while the ring is full
    }
    co_await out.async_drain(asio::use_awaitable);
    const auto c = out.counters();
    std::printf("played %llu frames, %llu underflows\n", static_cast<unsigned long long>(c.frames),
                static_cast<unsigned long long>(c.underflows));
}

int main()
try {
    asio::io_context io;
    coaudio::output_stream out(io, {.channels = 1, .sample_rate = 48000});
    out.start();
    asio::co_spawn(io, play(out), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
} catch (const std::exception& e) {
    std::fprintf(stderr, "tone: %s\n", e.what());
    return 2;
}
