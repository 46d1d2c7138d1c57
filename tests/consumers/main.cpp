// A program that uses coaudio as a downstream project would, through the package
// only (find_package or FetchContent). Shared by both consumer projects.
// Distributed under the Boost Software License, Version 1.0.
//
// Lists the devices, then opens (without starting) an output stream. A machine
// without audio devices is not an error: it prints "no devices" and exits 0.
#include <coaudio/coaudio.hpp>

#include <asio/io_context.hpp>

#include <exception>
#include <iostream>
#include <optional>
#include <vector>

namespace {

void print_default(const char* role, const std::optional<coaudio::device_info>& d)
{
    std::cout << "default " << role << ": ";
    if (d)
        std::cout << '[' << d->index << "] " << d->name << '\n';
    else
        std::cout << "none\n";
}

} // namespace

int main()
{
    try {
        coaudio::library lib;

        const std::vector<coaudio::device_info> devs = coaudio::devices();
        std::cout << "devices: " << devs.size() << '\n';
        if (devs.empty()) {
            std::cout << "no devices\n";
            return 0;
        }
        for (const coaudio::device_info& d : devs) {
            std::cout << "  [" << d.index << "] " << d.name << " (in " << d.max_input_channels
                      << ", out " << d.max_output_channels << ", " << d.default_sample_rate
                      << " Hz)\n";
        }
        print_default("input", coaudio::default_input_device());
        const std::optional<coaudio::device_info> out_dev = coaudio::default_output_device();
        print_default("output", out_dev);
        if (!out_dev) {
            std::cout << "no default output device, nothing to open\n";
            return 0;
        }

        asio::io_context io;
        coaudio::output_stream out(io,
                                   coaudio::stream_config{.device = out_dev->index,
                                                          .channels = 1,
                                                          .format = coaudio::sample_format::float32,
                                                          .sample_rate = 48000,
                                                          .frames_per_block = 256});
        std::cout << "opened an output stream on [" << out_dev->index << "] " << out_dev->name
                  << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "coaudio consumer: " << e.what() << '\n';
        return 1;
    }
}
