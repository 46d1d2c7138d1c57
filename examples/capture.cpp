// Prints the level of the default microphone, ten times a second, for ten seconds.
#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#include <cstdio>

asio::awaitable<void> print_levels(coaudio::input_stream& mic)
{
    std::vector<float> block(4800); // 100 ms at 48 kHz
    for (int i = 0; i < 100; ++i) {
        std::size_t frames = co_await mic.async_read_frames(std::span(block), asio::use_awaitable);
        std::printf("%7.1f dBFS%s\n", coaudio::rms_dbfs(std::span(block).first(frames)),
                    mic.last_read().discontinuous() ? "  (frames were lost before this block)" : "");
    }
}

int main()
try {
    asio::io_context io;
    coaudio::input_stream mic(io, {.channels = 1, .sample_rate = 48000});
    mic.start();
    asio::co_spawn(io, print_levels(mic), asio::detached);
    io.run();
} catch (const std::exception& e) {
    std::fprintf(stderr, "capture: %s\n", e.what());
    return 2;
}
