// Lists the audio devices the way `python3 -m sounddevice` does: index,
// name, host API, input and output channels, default rate; '>' marks the
// default input, '<' the default output ('*' both).
#include <coaudio/device.hpp>

#include <cstdio>

int main()
try {
    coaudio::library lib;
    const auto in = coaudio::default_input_device();
    const auto out = coaudio::default_output_device();
    const auto all = coaudio::devices();
    if (all.empty()) std::puts("no audio devices");
    for (const auto& d : all) {
        const bool is_in = in && in->index == d.index;
        const bool is_out = out && out->index == d.index;
        const char mark = is_in && is_out ? '*' : is_in ? '>' : is_out ? '<' : ' ';
        std::printf("%c %3d %s, %s (%d in, %d out), %.0f Hz\n", mark, d.index, d.name.c_str(),
                    d.host_api_name.c_str(), d.max_input_channels, d.max_output_channels, d.default_sample_rate);
    }
    std::printf("\n%s\n", coaudio::library::portaudio_version());
} catch (const std::exception& e) {
    std::fprintf(stderr, "devices: %s\n", e.what());
    return 2;
}
