// Test support: wires a process's own PortAudio JACK ports into a loopback.
#ifndef COAUDIO_TESTS_SUPPORT_JACK_LOOPBACK_HPP
#define COAUDIO_TESTS_SUPPORT_JACK_LOOPBACK_HPP

#include <coaudio/device.hpp>

#include <jack/jack.h>

#include "support/tone.hpp" // test::sine, test::zero_crossing_frequency, for the loopback tests

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

/// A libjack client of the test's own, used only to see and connect ports.
class jack_patchbay {
public:
    jack_patchbay()
    {
        jack_status_t status{};
        client_ = jack_client_open("coaudio-test-patchbay", JackNoStartServer, &status);
        if (client_ == nullptr)
            throw std::runtime_error("cannot reach the JACK server (is the fixture running?)");
    }
    jack_patchbay(const jack_patchbay&) = delete;
    jack_patchbay& operator=(const jack_patchbay&) = delete;
    ~jack_patchbay() { jack_client_close(client_); }

    /// Names of the PortAudio client's ports with the given flags.
    std::set<std::string> portaudio_ports(unsigned long flags) const
    {
        std::set<std::string> out;
        if (const char** ports = jack_get_ports(client_, "^PortAudio", nullptr, flags)) {
            for (const char** p = ports; *p != nullptr; ++p)
                out.insert(*p);
            jack_free(ports);
        }
        return out;
    }

    /// Takes note of the ports that exist now, so that `new_ports` can tell
    /// which ones a stream opened afterwards registered.
    void mark()
    {
        marked_outputs_ = portaudio_ports(JackPortIsOutput);
        marked_inputs_ = portaudio_ports(JackPortIsInput);
    }

    /// Connects every PortAudio output port registered since `mark()` to
    /// every PortAudio input port registered since then, pairwise in name
    /// order: what is played comes straight back.
    void loop_new_ports()
    {
        auto outs = diff(portaudio_ports(JackPortIsOutput), marked_outputs_);
        auto ins = diff(portaudio_ports(JackPortIsInput), marked_inputs_);
        if (outs.empty() || ins.empty())
            throw std::runtime_error("no new PortAudio ports to connect");
        for (std::size_t i = 0; i < std::min(outs.size(), ins.size()); ++i) {
            const int rc = jack_connect(client_, outs[i].c_str(), ins[i].c_str());
            if (rc != 0 && rc != EEXIST)
                throw std::runtime_error("jack_connect failed: " + outs[i] + " -> " + ins[i]);
        }
    }

    /// Disconnects the inputs registered since `mark()` from the server's
    /// capture ports, so that only the loopback feeds them.
    void isolate_new_inputs()
    {
        for (const auto& in : diff(portaudio_ports(JackPortIsInput), marked_inputs_)) {
            jack_port_t* port = jack_port_by_name(client_, in.c_str());
            if (port == nullptr) continue;
            if (const char** conns = jack_port_get_all_connections(client_, port)) {
                for (const char** c = conns; *c != nullptr; ++c)
                    if (std::string(*c).rfind("system:", 0) == 0)
                        jack_disconnect(client_, *c, in.c_str());
                jack_free(conns);
            }
        }
    }

    /// The server's period, in frames.
    std::size_t buffer_size() const { return jack_get_buffer_size(client_); }

    /// The largest latency, in frames, that JACK reports for `port` in the
    /// capture (true) or playback (false) direction.
    std::size_t port_latency(const char* port, bool capture) const
    {
        jack_port_t* p = jack_port_by_name(client_, port);
        if (p == nullptr) throw std::runtime_error(std::string("no JACK port ") + port);
        jack_latency_range_t range{};
        jack_port_get_latency_range(p, capture ? JackCaptureLatency : JackPlaybackLatency, &range);
        return range.max;
    }

private:
    static std::vector<std::string> diff(const std::set<std::string>& now,
                                         const std::set<std::string>& before)
    {
        std::vector<std::string> out;
        std::set_difference(now.begin(), now.end(), before.begin(), before.end(),
                            std::back_inserter(out));
        return out;
    }

    jack_client_t* client_ = nullptr;
    std::set<std::string> marked_outputs_, marked_inputs_;
};

/// The PortAudio device of the JACK host API ("system"), found by host API name.
inline int jack_device_index()
{
    for (const auto& d : coaudio::devices())
        if (d.host_api_name.find("JACK") != std::string::npos && d.max_input_channels > 0 &&
            d.max_output_channels > 0)
            return d.index;
    throw std::runtime_error("no JACK device: is JACK_DEFAULT_SERVER set and the server running?");
}

/// Opens `s` (a duplex stream) mono in and out on JACK at `rate` in blocks of
/// `block`, after `bay.mark()`, so that `bay.loop_new_ports()` wires it to itself.
template <class DuplexStream>
void open_mono_loopback(DuplexStream& s, jack_patchbay& bay, double rate, unsigned long block)
{
    const int dev = jack_device_index();
    bay.mark();
    s.open({.input = {.device = dev, .channels = 1, .sample_rate = rate, .frames_per_block = block},
            .output = {.device = dev, .channels = 1}});
}

} // namespace test

#endif
