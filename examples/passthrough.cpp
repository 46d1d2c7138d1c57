// Plays the input back to the output with a gain, through one duplex stream:
// each block read is written straight back, the lowest-latency path coaudio
// offers (input latency + one block + output latency).
//
//   passthrough [--gain G] [--seconds S] [--device NAME] [--block FRAMES]
#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct options {
    float gain = 1.0f;
    double seconds = 10.0;
    std::string device;
    unsigned long block = 128;
};

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) throw std::invalid_argument(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--gain") o.gain = std::strtof(value(), nullptr);
        else if (arg == "--seconds") o.seconds = std::strtod(value(), nullptr);
        else if (arg == "--device") o.device = value();
        else if (arg == "--block") o.block = std::strtoul(value(), nullptr, 10);
        else throw std::invalid_argument("unknown option " + std::string(arg) +
                                         " (use --gain, --seconds, --device, --block)");
    }
    return o;
}

asio::awaitable<void> pass(coaudio::duplex_stream& s, const options& o)
{
    const auto block = static_cast<std::size_t>(s.params().frames_per_block) * std::size_t(s.channels());
    std::vector<float> buf(block);
    // One block of silence queued first gives the writer a block of slack.
    co_await s.async_write_frames(std::span(buf), asio::use_awaitable);
    const auto frames = static_cast<std::uint64_t>(o.seconds * s.sample_rate());
    for (std::uint64_t done = 0; done < frames;) {
        const std::size_t n = co_await s.async_read_frames(std::span(buf), asio::use_awaitable);
        for (float& x : std::span(buf).first(n * std::size_t(s.channels()))) x *= o.gain;
        co_await s.async_write_frames(std::span(buf).first(n * std::size_t(s.channels())), asio::use_awaitable);
        done += n;
    }
    const auto c = s.counters();
    std::printf("passed %llu frames through; %llu overflows, %llu underflows; latency in %.1f ms + out %.1f ms\n",
                static_cast<unsigned long long>(frames), static_cast<unsigned long long>(c.overflows),
                static_cast<unsigned long long>(c.underflows), 1e3 * s.input_params().latency,
                1e3 * s.output_params().latency);
}

} // namespace

int main(int argc, char** argv)
try {
    const options o = parse(argc, argv);
    coaudio::library lib;
    coaudio::stream_config in{.channels = 1, .frames_per_block = o.block, .latency = coaudio::latency_hint::low()};
    coaudio::stream_config out = in;
    if (!o.device.empty()) {
        in.device = coaudio::find_device(o.device, coaudio::device_kind::input).index;
        out.device = coaudio::find_device(o.device, coaudio::device_kind::output).index;
    }
    asio::io_context io;
    coaudio::duplex_stream stream(io, {in, out});
    stream.start();
    asio::co_spawn(io, pass(stream, o), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
} catch (const std::exception& e) {
    std::fprintf(stderr, "passthrough: %s\n", e.what());
    return 2;
}
