// coaudio: opening a stream core's PortAudio stream, on the control thread and with patience.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_OPEN_HPP
#define COAUDIO_DETAIL_STREAM_OPEN_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/control_thread.hpp>
#include <coaudio/detail/jack_settle.hpp>
#include <coaudio/detail/open_params.hpp>
#include <coaudio/detail/stream_core.hpp>
#include <coaudio/error.hpp>
#include <coaudio/library.hpp>
#include <coaudio/stream_config.hpp>

#include <portaudio.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <system_error>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// `open_core`'s work, on the control thread: resolves the configuration
/// against the devices, builds the core and opens its PortAudio stream.
inline std::shared_ptr<stream_core> open_core_here(direction dir, const stream_config* in_cfg,
                                                   const stream_config* out_cfg,
                                                   std::error_code& ec, std::string& why)
{
    library_ref lib; // any early return below hands it back
    if ((ec = lib.error())) return nullptr;

    open_params::resolved r;
    if ((ec = open_params::resolve(dir, in_cfg, out_cfg, r, why))) return nullptr;

    std::shared_ptr<stream_core> core;
    try {
        if (dir == direction::duplex)
            core = std::make_shared<stream_core>(r.in, in_cfg->ring_frames, r.out,
                                                 out_cfg->ring_frames);
        else
            core = std::make_shared<stream_core>(dir, has_input(dir) ? r.in : r.out,
                                                 has_input(dir) ? in_cfg->ring_frames
                                                                : out_cfg->ring_frames);
    } catch (const std::system_error& e) {
        ec = e.code();
        return nullptr;
    }
    // On the control thread, like every call that opens, starts, stops or
    // closes a stream: they need no lock among themselves.
    if ((ec = open_params::check_format(r, why))) return nullptr;
    PaStream* pa = nullptr;
    const unsigned long block = r.frames_per_block();
    ec = open_params::map_error(Pa_OpenStream(&pa, r.pa_input(), r.pa_output(), r.sample_rate(),
                                              block == 0 ? paFramesPerBufferUnspecified : block,
                                              paNoFlag, &stream_core::pa_callback, core.get()));
    if (ec) return nullptr;
    // What the host really runs at, and the latency it reports.
    if (const PaStreamInfo* info = Pa_GetStreamInfo(pa)) {
        if (has_input(dir)) {
            stream_params& p = core->input().params;
            p.sample_rate = info->sampleRate;
            p.latency = plausible_latency(info->inputLatency, p.latency);
        }
        if (has_output(dir)) {
            stream_params& p = core->output().params;
            p.sample_rate = info->sampleRate;
            p.latency = plausible_latency(info->outputLatency, p.latency);
        }
    }
    core->adopt(
        pa, std::move(lib),
        jack_graph::racy(r.pa_input() != nullptr ? r.pa_input()->device : r.pa_output()->device));
    return core;
}

/// Opens a stream core with a PortAudio stream behind it. `in_cfg` is used
/// for input and duplex, `out_cfg` for output and duplex. Returns null and
/// sets `ec` on failure, and `why` to words that name the bad value where
/// there is one.
///
/// Runs on the control thread, where the stream's other PortAudio calls
/// run too: PortAudio's initialisation and open wait for a frozen JACK
/// server. The caller waits at most `setup_patience` (or the stall
/// timeout, if longer), then gets `errc::host_not_responding`; an open that
/// completes after that is closed again there.
inline std::shared_ptr<stream_core> open_core(direction dir, const stream_config* in_cfg,
                                              const stream_config* out_cfg, std::error_code& ec,
                                              std::string& why)
{
    const open_params::config_copy cfg(in_cfg, out_cfg);
    std::chrono::steady_clock::duration patience = setup_patience;
    for (const auto* c : {in_cfg, out_cfg})
        if (c != nullptr)
            patience = std::max<std::chrono::steady_clock::duration>(patience, c->stall_timeout);
    struct opened {
        std::error_code ec;
        std::string why;
        std::shared_ptr<stream_core> core;
    };
    std::optional<opened> r = control_thread::value_of<opened>(
        [=] {
            opened o;
            try {
                o.core = open_core_here(dir, cfg.input(), cfg.output(), o.ec, o.why);
            } catch (const std::bad_alloc&) {
                o.ec = std::make_error_code(std::errc::not_enough_memory);
            }
            return o;
        },
        [](opened) {}, // too late: the core closes its stream as it goes, there
        patience);
    if (!r) {
        ec = make_error_code(errc::host_not_responding);
        why = "PortAudio did not open the stream within " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(patience).count()) +
              " ms: the host or its server is not answering";
        return nullptr;
    }
    ec = r->ec;
    why = std::move(r->why);
    return std::move(r->core);
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
