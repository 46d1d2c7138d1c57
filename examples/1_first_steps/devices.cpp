// Lists the audio devices the way `python3 -m sounddevice` does: index,
// name, host API, input and output channels, default rate; '>' marks the
// default input, '<' the default output ('*' both).
#include <coaudio/device.hpp>

#include <cstdio>

#include "common/command_line.hpp"
#include "common/devices.hpp"

int main(int argc, char** argv)
try {
    examples::command_line cli(
        "devices", "usage: devices [options]\n\n"
                   "Lists the audio devices: '>' marks the default input, '<' the default\n"
                   "output, '*' both. Run it first: the other examples take --device INDEX.\n\n");
    cli.parse(argc, argv);
    auto library = examples::open_library(cli);

    const auto in = coaudio::default_input_device();
    const auto out = coaudio::default_output_device();
    const auto all = coaudio::devices();
    if (all.empty()) std::puts("no audio devices");
    for (const auto& d : all) {
        const bool is_in = in && in->index == d.index;
        const bool is_out = out && out->index == d.index;
        const char mark = is_in && is_out ? '*' : is_in ? '>' : is_out ? '<' : ' ';
        std::printf("%c %3d %s, %s (%d in, %d out), %.0f Hz\n", mark, d.index, d.name.c_str(),
                    d.host_api_name.c_str(), d.max_input_channels, d.max_output_channels,
                    d.default_sample_rate);
    }
    std::printf("\n%s\n", coaudio::library::portaudio_version());
    return examples::finish("devices", examples::exit_ok);
} catch (const std::exception& e) {
    std::fprintf(stderr, "devices: %s\n", e.what());
    return examples::exit_failed;
}
