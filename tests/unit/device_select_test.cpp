// Device selection by name, as sounddevice does it, on a list of devices
// made up here (no PortAudio needed).
#include <coaudio/device.hpp>

#include "support/catch.hpp"

#include <string>

namespace {

coaudio::device_info dev(int index, std::string name, std::string api, int in, int out)
{
    coaudio::device_info d;
    d.index = index;
    d.name = std::move(name);
    d.host_api_name = std::move(api);
    d.max_input_channels = in;
    d.max_output_channels = out;
    return d;
}

const std::vector<coaudio::device_info> fake = {
    dev(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", "ALSA", 2, 2),
    dev(1, "USB Audio Device: Mic (hw:1,0)", "ALSA", 1, 0),
    dev(2, "USB Audio Device: Headphones (hw:1,1)", "ALSA", 0, 2),
    dev(3, "pulse", "ALSA", 32, 32),
    dev(4, "system", "JACK Audio Connection Kit", 2, 2),
    dev(5, "USB Audio Device", "JACK Audio Connection Kit", 1, 2),
};

std::string message_of(auto&& fn)
{
    try {
        fn();
    } catch (const std::system_error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("an exact name wins over substrings")
{
    CHECK(coaudio::select_device(fake, "USB Audio Device").index == 5);
    CHECK(coaudio::select_device(fake, "system").index == 4);
}

TEST_CASE("a substring matches ignoring case")
{
    CHECK(coaudio::select_device(fake, "alc892").index == 0);
    CHECK(coaudio::select_device(fake, "PULSE").index == 3);
}

TEST_CASE("kind and host API narrow the search")
{
    CHECK(coaudio::select_device(fake, "usb", coaudio::device_kind::input, "alsa").index == 1);
    CHECK(coaudio::select_device(fake, "usb", coaudio::device_kind::output, "ALSA").index == 2);
    CHECK(coaudio::select_device(fake, "usb audio", coaudio::device_kind::any, "jack").index == 5);
    CHECK(coaudio::match_devices(fake, "usb", coaudio::device_kind::input).size() == 2);
}

TEST_CASE("an ambiguous name is an error that names every match")
{
    const std::string what =
        message_of([] { coaudio::select_device(fake, "usb", coaudio::device_kind::output); });
    CHECK(what.find("matches 2 devices") != std::string::npos);
    CHECK(what.find("[2] USB Audio Device: Headphones (hw:1,1) (ALSA)") != std::string::npos);
    CHECK(what.find("[5] USB Audio Device (JACK Audio Connection Kit)") != std::string::npos);
    try {
        coaudio::select_device(fake, "hw:");
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == coaudio::errc::ambiguous_device);
    }
}

TEST_CASE("a name that matches nothing is device_not_found naming the request")
{
    try {
        coaudio::select_device(fake, "Focusrite", coaudio::device_kind::input, "JACK");
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == coaudio::errc::device_not_found);
        const std::string what = e.what();
        CHECK(what.find("\"Focusrite\"") != std::string::npos);
        CHECK(what.find("with inputs") != std::string::npos);
        CHECK(what.find("\"JACK\"") != std::string::npos);
    }
}
