// coaudio: a stream core's PortAudio control: start, stop, abort and close,
// run on the control thread.
// Distributed under the Boost Software License, Version 1.0.
//
// Included by stream_core.hpp, after the class: the class says what each
// state and call means; this file says how the PortAudio calls are made.
#ifndef COAUDIO_DETAIL_IMPL_STREAM_CONTROL_HPP
#define COAUDIO_DETAIL_IMPL_STREAM_CONTROL_HPP

#include <coaudio/detail/jack_settle.hpp>
#include <coaudio/detail/stream_core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

inline std::error_code stream_core::start()
{
    if (!is_open()) return make_error_code(errc::not_open);
    check_alive();
    if (state() == run_state::lost && pa_ != nullptr) return make_error_code(errc::device_lost);
    if (pa_ != nullptr && state() == run_state::running && !Pa_IsStreamStopped(pa_)) return {};
    // The last run's DAC mark would date this run's writes.
    if (out_) out_->dac.reset();
    state_.store(static_cast<int>(run_state::running), std::memory_order_release);
    if (pa_ == nullptr) return {};
    std::error_code ec = on_control_thread(
        [jack = jack_, period = host_period()](PaStream* pa) {
            if (!Pa_IsStreamStopped(pa))
                Pa_StopStream(pa); // finished: reset PortAudio's state first
            const PaError e = Pa_StartStream(pa);
            if (jack) jack_graph::changed(period); // connected
            return e;
        },
        patience(), false);
    if (ec) state_.store(static_cast<int>(run_state::stopped), std::memory_order_release);
    return ec;
}

inline std::error_code stream_core::stop()
{
    if (!is_open()) return make_error_code(errc::not_open);
    // A stalled host plays nothing more, and some (Windows' MME and
    // DirectSound) wait seconds in Pa_StopStream for output that never
    // plays: stop it as abort does.
    if (stalled()) return halt(&Pa_AbortStream);
    if (out_ && state() == run_state::running &&
        out_->ring.write_available() != out_->ring.capacity()) {
        request_drain();
        wait_for_drain(*out_);
    }
    return halt(&Pa_StopStream);
}

inline std::error_code stream_core::abort()
{
    if (!is_open()) return make_error_code(errc::not_open);
    return halt(&Pa_AbortStream);
}

inline void stream_core::close() noexcept
{
    if (state() == run_state::closed) return;
    // The watchdog only runs while an operation waits: a stream whose
    // server died while nothing was pending learns it here, before
    // PortAudio is asked to stop it.
    check_alive();
    if (state() == run_state::lost && pa_ != nullptr) {
        // PortAudio's JACK host waits for its (dead) process thread to
        // acknowledge a stop or close, for up to ten minutes. A lost
        // stream is therefore left open on purpose, with its library
        // reference: a small leak instead of a hung application.
        pa_ = nullptr;
        lib_.leak();
    }
    const bool stuck = stalled();
    state_.store(static_cast<int>(run_state::stopping), std::memory_order_release);
    if (driver_ != nullptr) {
        driver_->detach(*this);
        driver_ = nullptr;
    }
    bool closed = true;
    if (pa_ != nullptr) {
        const auto ec = on_control_thread(
            [jack = jack_, period = host_period()](PaStream* pa) {
                if (!Pa_IsStreamStopped(pa)) {
                    Pa_AbortStream(pa);
                    if (jack) jack_graph::changed(period); // disconnected
                }
                if (jack) jack_graph::settle();
                const PaError e = Pa_CloseStream(pa);
                if (jack) jack_graph::changed(period); // ports unregistered
                return e;
            },
            stuck ? std::chrono::steady_clock::duration::zero() : patience(), true);
        closed = ec != errc::host_not_responding;
        pa_ = nullptr;
    }
    state_.store(static_cast<int>(run_state::closed), std::memory_order_release);
    wake_all();
    // A close still under way needs PortAudio: the reference goes with
    // the core, when the control thread lets go of it.
    if (closed) lib_.reset();
}

inline void stream_core::adopt(PaStream* pa, library_ref lib, bool jack) noexcept
{
    pa_ = pa;
    lib_ = std::move(lib);
    jack_ = jack;
    Pa_SetStreamFinishedCallback(pa_, &stream_core::pa_finished);
    if (jack_) jack_graph::changed(host_period());
}

inline std::chrono::duration<double> stream_core::host_period() const noexcept
{
    const stream_params p = (in_ ? *in_ : *out_).current_params();
    const double frames = p.frames_per_block != 0 ? double(p.frames_per_block) : 1024.0;
    return std::chrono::duration<double>(p.sample_rate > 0 ? frames / p.sample_rate : 0.0);
}

inline std::chrono::steady_clock::duration stream_core::patience() const noexcept
{
    const stream_params& p = params();
    double latency = 0;
    if (in_) latency += in_->params.latency;
    if (out_) latency += out_->params.latency;
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        (p.stall_timeout.count() != 0 ? std::chrono::duration<double>(p.stall_timeout)
                                      : default_patience) +
        std::chrono::duration<double>(latency));
}

inline void stream_core::wait_for_drain(direction_bridge& c) noexcept
{
    using clock = std::chrono::steady_clock;
    const double seconds =
        double(c.ring.capacity()) / c.params.sample_rate + c.params.latency + 1.0;
    auto now = clock::now();
    const auto deadline =
        now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    const auto stall = c.params.stall_timeout;
    std::uint64_t seen = callbacks();
    auto seen_at = now;
    for (;;) {
        c.bell.drain();
        if (state() != run_state::draining || now >= deadline) return;
        auto until = deadline;
        if (stall.count() != 0) {
            if (const std::uint64_t n = callbacks(); n != seen) {
                seen = n;
                seen_at = now;
            } else if (now - seen_at >= stall) {
                return;
            }
            until = std::min<clock::time_point>(until, seen_at + stall);
        }
        // Rounded up, so that a wait never ends just short of its bound.
        c.bell.wait_for(std::chrono::ceil<std::chrono::milliseconds>(until - now));
        now = clock::now();
    }
}

inline std::error_code stream_core::halt(PaError (*fn)(PaStream*))
{
    check_alive(); // see close()
    const run_state before = state();
    state_.store(static_cast<int>(run_state::stopping), std::memory_order_release);
    std::error_code ec;
    // A lost stream is not stopped through PortAudio: see close().
    if (pa_ != nullptr && before != run_state::lost) {
        // Abort discards queued output. With PortAudio stopped no
        // callback runs, so the control thread may take the consumer's
        // part of the ring.
        direction_bridge* discard = fn == &Pa_AbortStream && out_ ? &*out_ : nullptr;
        ec = on_control_thread(
            [fn, discard, jack = jack_, period = host_period()](PaStream* pa) {
                PaError e = paNoError;
                if (!Pa_IsStreamStopped(pa)) {
                    e = fn(pa);
                    if (jack) jack_graph::changed(period); // disconnected
                }
                if (discard != nullptr && Pa_IsStreamStopped(pa) == 1)
                    discard->ring.commit_read(
                        discard->ring.prepare_read(discard->ring.capacity()).frames);
                return e;
            },
            patience(), false);
    }
    // A lost stream stays lost so that pending and later operations learn why.
    state_.store(static_cast<int>(before == run_state::lost ? run_state::lost : run_state::stopped),
                 std::memory_order_release);
    wake_all();
    return ec;
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail

#endif
