// Prints the level of the default microphone (or of --device NAME|INDEX), ten
// times a second, for ten seconds.
//
// The idiom to copy: an error (the audio server died, the device went away)
// comes out of io.run() as an exception, is printed, and ends the program with
// a non-zero status. asio::detached would swallow it and exit 0.
#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#include <cstdio>

#include "common/command_line.hpp"
#include "common/devices.hpp"

asio::awaitable<void> print_levels(coaudio::input_stream& mic)
{
    std::vector<float> block(4800); // 100 ms at 48 kHz
    for (int i = 0; i < 100; ++i) {
        std::size_t frames = co_await mic.async_read_frames(std::span(block), asio::use_awaitable);
        std::printf("%7.1f dBFS%s\n", coaudio::rms_dbfs(std::span(block).first(frames)),
                    mic.last_read().discontinuous() ? "  (frames were lost before this block)"
                                                    : "");
        if (std::fflush(stdout) != 0) co_return; // nobody reads any more (`capture | head -3`)
    }
}

int main(int argc, char** argv)
try {
    std::optional<std::string> device; // empty: the host's default input
    examples::command_line cli(
        "capture", "usage: capture [--device NAME|INDEX]\n\n"
                   "Prints the level of an input, ten times a second, for ten seconds.\n\n");
    cli.text("--device", device);
    cli.parse(argc, argv);
    auto library = examples::open_library(cli);
    const auto dev = examples::require_device(cli, device, coaudio::device_kind::input);

    asio::io_context io;
    coaudio::input_stream mic(io, {.device = dev.index, .channels = 1, .sample_rate = 48000});
    mic.start();
    asio::co_spawn(io, print_levels(mic), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e); // out of io.run(), into the catch below
    });
    io.run();
    return examples::finish("capture", 0);
} catch (const std::exception& e) {
    std::fprintf(stderr, "capture: %s\n", e.what());
    return 1;
}
