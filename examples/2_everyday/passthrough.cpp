// Plays the input back to the output with a gain, through one duplex stream:
// each block read is written straight back, the lowest-latency path coaudio
// offers (input latency + one block + output latency).
//
//   passthrough [--gain G] [--seconds S] [--device NAME|INDEX] [--block FRAMES]
#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "common/command_line.hpp"
#include "common/devices.hpp"

namespace {

constexpr const char* usage_text = R"(usage: passthrough [options]

Plays the input back to the output with a gain, through one duplex stream.

  --gain G            gain, -100 to 100 (default 1; -1 inverts)
  --seconds S         how long (default 10)
  --device NAME|INDEX the device for both directions: an index from `devices`,
                      or part of a name; default: the host's defaults
  --block FRAMES      frames per callback, 1 to 8192 (default 128)
  --stall-timeout S   fail when the device delivers no audio for S seconds
                      (a frozen server; default 2; 0 waits forever)
)";

struct options {
    float gain = 1.0f;
    double seconds = 10.0;
    std::optional<std::string> device;
    unsigned long block = 128;
    std::chrono::milliseconds stall_timeout{2000};
};

asio::awaitable<void> pass(coaudio::duplex_stream& s, const options& o)
{
    const auto block =
        static_cast<std::size_t>(s.params().frames_per_block) * std::size_t(s.channels());
    std::vector<float> buf(block);
    // One block of silence queued first gives the writer a block of slack.
    co_await s.async_write_frames(std::span(buf), asio::use_awaitable);
    const auto frames = static_cast<std::uint64_t>(o.seconds * s.sample_rate());
    for (std::uint64_t done = 0; done < frames;) {
        const std::size_t n = co_await s.async_read_frames(std::span(buf), asio::use_awaitable);
        for (float& x : std::span(buf).first(n * std::size_t(s.channels())))
            x *= o.gain;
        co_await s.async_write_frames(std::span(buf).first(n * std::size_t(s.channels())),
                                      asio::use_awaitable);
        done += n;
    }
    const auto c = s.counters();
    std::printf("passed %llu frames through; %llu overflows, %llu underflows; latency in %.1f ms + "
                "out %.1f ms\n",
                static_cast<unsigned long long>(frames),
                static_cast<unsigned long long>(c.overflows),
                static_cast<unsigned long long>(c.underflows), 1e3 * s.input_params().latency,
                1e3 * s.output_params().latency);
}

} // namespace

int main(int argc, char** argv)
try {
    options o;
    examples::command_line cli("passthrough", usage_text);
    cli.number("--gain", o.gain, {.min = -100, .max = 100});
    cli.number("--seconds", o.seconds, {.min = 0, .max = 24 * 3600, .exclusive_min = true});
    cli.text("--device", o.device);
    cli.whole("--block", o.block, 1, 8192);
    cli.stall_timeout(o.stall_timeout);
    cli.parse(argc, argv);
    auto library = examples::open_library(cli);

    const auto in_dev = examples::require_device(cli, o.device, coaudio::device_kind::input);
    const auto out_dev = examples::require_device(cli, o.device, coaudio::device_kind::output);
    coaudio::stream_config in{.device = in_dev.index,
                              .channels = 1,
                              .frames_per_block = o.block,
                              .latency = coaudio::latency_hint::low(),
                              .stall_timeout = o.stall_timeout};
    coaudio::stream_config out = in;
    out.device = out_dev.index;
    asio::io_context io;
    coaudio::duplex_stream stream(io);
    std::error_code ec;
    {
        examples::quiet_stderr quiet(!cli.verbose());
        stream.open({in, out}, ec);
        if (!ec) stream.start(ec);
    }
    if (ec) {
        std::fprintf(stderr, "passthrough: cannot open %s and %s: %s\n", in_dev.name.c_str(),
                     out_dev.name.c_str(), ec.message().c_str());
        return examples::exit_no_device;
    }
    asio::co_spawn(io, pass(stream, o), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    return examples::finish("passthrough", examples::exit_ok);
} catch (const std::exception& e) {
    std::fprintf(stderr, "passthrough: %s\n", e.what());
    return examples::exit_failed;
}
