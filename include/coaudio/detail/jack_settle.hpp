// coaudio: lets JACK's graph settle before PortAudio unregisters a stream's ports.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_JACK_SETTLE_HPP
#define COAUDIO_DETAIL_JACK_SETTLE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/library.hpp>

#include <portaudio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// libjack's notification thread walks its client's list of ports, without a
/// lock, whenever the server asks for latencies (jack2's
/// JackClient::HandleLatencyCallback), and jack_port_unregister erases from
/// that list on the caller's thread (jack2 issues #216 and #340; unchanged in
/// jack2 1.9.22 and after). The server asks one or two cycles after every
/// change to its graph. PortAudio's JACK host changes the graph when a stream
/// opens (ports registered), starts (connected), stops (disconnected) and
/// closes (ports unregistered, on a client that stays active), so a close that
/// follows another change at once can free a list node that the notification
/// thread is reading: the process dies in libjack.
///
/// coaudio makes every such PortAudio call on its one control thread, so it
/// can keep its own changes apart: `changed` notes one, and `settle`, called
/// just before Pa_CloseStream, waits until the server has had a few cycles
/// to ask and be answered. Changes that other processes make to the graph
/// are out of its reach. Control thread only. PipeWire's libjack is not
/// JACK 2's code, and its streams close at once.
class jack_graph {
public:
    /// True when `device` belongs to PortAudio's JACK host API and the
    /// libjack in this process is JACK 2's. PipeWire's libjack
    /// (pipewire-jack) is another implementation, and gets no wait.
    static bool racy(PaDeviceIndex device) noexcept
    {
        const PaDeviceInfo* d = device >= 0 ? Pa_GetDeviceInfo(device) : nullptr;
        const PaHostApiInfo* h = d != nullptr ? Pa_GetHostApiInfo(d->hostApi) : nullptr;
        return h != nullptr && h->type == paJACK && !pipewire_libjack();
    }

    /// Notes that the graph has just changed; `period` is the server's cycle.
    static void changed(std::chrono::duration<double> period) noexcept
    {
        const auto wait = std::chrono::duration_cast<clock::duration>(
            std::clamp<std::chrono::duration<double>>(4 * period, minimum, maximum));
        get().until.store((clock::now() + wait).time_since_epoch().count(),
                          std::memory_order_relaxed);
    }

    /// Waits until the last change has had time to settle.
    static void settle() noexcept
    {
        const clock::time_point until(clock::duration(get().until.load(std::memory_order_relaxed)));
        std::this_thread::sleep_until(until);
    }

    static constexpr std::chrono::duration<double> minimum{0.020};
    static constexpr std::chrono::duration<double> maximum{0.200};

private:
    using clock = std::chrono::steady_clock;

    // Where the libjack that PortAudio loaded comes from, by the file that
    // holds jack_client_open: PipeWire ships its own in its jack directory.
    static bool pipewire_libjack() noexcept
    {
#if COAUDIO_HAS_DLSYM
        static const bool pipewire = [] {
            Dl_info info{};
            void* open = ::dlsym(RTLD_DEFAULT, "jack_client_open");
            return open != nullptr && ::dladdr(open, &info) != 0 && info.dli_fname != nullptr &&
                   std::strstr(info.dli_fname, "pipewire") != nullptr;
        }();
        return pipewire;
#else
        return false;
#endif
    }

    // Atomic only for the rare call made off the control thread (a control
    // call that could not be queued runs on its caller's).
    struct state {
        std::atomic<clock::rep> until{0};
    };
    static state& get() noexcept
    {
        static state s;
        return s;
    }
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
