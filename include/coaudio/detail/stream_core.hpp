// coaudio: the non-template heart of a stream, shared by the audio thread and the io thread.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_CORE_HPP
#define COAUDIO_DETAIL_STREAM_CORE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/block_copy.hpp>
#include <coaudio/detail/control_thread.hpp>
#include <coaudio/detail/direction_bridge.hpp>
#include <coaudio/detail/lockfree.hpp>
#include <coaudio/detail/stream_params.hpp>
#include <coaudio/error.hpp>
#include <coaudio/library.hpp>
#include <coaudio/ring.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <portaudio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// Stream life as both threads see it.
enum class run_state : int {
    stopped,  ///< opened or stopped: no callbacks expected
    running,  ///< started
    draining, ///< output: play what is queued, then finish
    stopping, ///< a stop, abort or close requested by the io side is under way
    finished, ///< the callback completed the stream (drained)
    lost,     ///< the stream ended without being asked to: device or server gone
    closed,
};

class stream_core;

/// A driver other than PortAudio (a virtual device) that calls `process`.
/// `detach` is called once when the core closes; it must return only when
/// the driver will call the core no more.
class external_driver {
public:
    virtual void detach(stream_core& core) noexcept = 0;

protected:
    ~external_driver() = default;
};

/// The state shared by the audio thread and the io thread: one
/// direction_bridge per direction, the run state and the PortAudio stream.
///
/// Heap-pinned: PortAudio holds its address as callback user data. The two
/// threads meet only in the bridges' rings, parked words and record queues
/// and in the atomics below; nothing here takes a lock or allocates after
/// construction.
///
/// PortAudio's start, stop, abort and close run on the control thread (see
/// control_thread.hpp). Shared ownership lets a call that outlasts its
/// caller's patience keep the core alive until it returns.
class stream_core : public std::enable_shared_from_this<stream_core> {
public:
    /// A one-direction core with no PortAudio stream behind it: the caller
    /// plays the driver by calling `process` (and `finished` when `process`
    /// returns paComplete) from any one thread. For tests and virtual devices.
    stream_core(direction dir, const stream_params& p, std::size_t ring_frames) : dir_(dir)
    {
        if (has_input(dir)) in_.emplace(p, ring_frames);
        if (has_output(dir)) out_.emplace(p, ring_frames);
    }

    /// A duplex core with no PortAudio stream behind it.
    stream_core(const stream_params& in, std::size_t in_ring, const stream_params& out,
                std::size_t out_ring)
        : dir_(direction::duplex)
    {
        in_.emplace(in, in_ring);
        out_.emplace(out, out_ring);
    }

    stream_core(const stream_core&) = delete;
    stream_core& operator=(const stream_core&) = delete;

    ~stream_core() { close(); }

    // ---- audio thread ---------------------------------------------------

    /// The PortAudio callback, also callable by any thread playing the driver.
    /// Copies frames between the device buffers and the rings, counts losses
    /// and rings a doorbell only when a parked operation can now proceed.
    /// `adc_time`/`dac_time` are the converter times of the first frame of
    /// each buffer (0 when unknown).
    int process(const void* input, void* output, std::size_t frames, PaStreamCallbackFlags flags,
                double adc_time = 0.0, double dac_time = 0.0) noexcept
    {
        // A driver passes a buffer for each direction the stream has; the
        // checks keep a faulty one from making us copy through null.
        callbacks_.add(1);
        if (in_ && input != nullptr) capture_block(*in_, input, frames, flags, adc_time);
        if (out_ && output != nullptr) {
            const bool draining =
                state_.load(std::memory_order_acquire) == static_cast<int>(run_state::draining);
            const std::size_t free =
                playback_block(*out_, output, frames, flags, dac_time, draining);
            if (draining && free == out_->ring.capacity()) return paComplete;
        }
        return paContinue;
    }

    /// Notes what one callback showed of the host: its frames, and the
    /// latencies its timestamps give (`now` is the callback's own time; any
    /// time that is 0 is unknown).
    void observe(std::size_t frames, double now, double adc_time, double dac_time) noexcept
    {
        const auto block = static_cast<unsigned long>(frames);
        const bool timed = now > 0;
        if (in_) in_->observe(block, timed && adc_time > 0 ? now - adc_time : 0.0);
        if (out_) out_->observe(block, timed && dac_time > 0 ? dac_time - now : 0.0);
    }

    /// Called when the stream has become inactive (PortAudio's finished
    /// callback). Unrequested, it means the device or server went away.
    void finished() noexcept
    {
        int s = state_.load(std::memory_order_acquire);
        for (;;) {
            run_state next;
            switch (static_cast<run_state>(s)) {
            case run_state::running: next = run_state::lost; break;
            case run_state::draining:
                // Completion comes after the ring ran dry; an end with frames
                // still queued is the device going away mid-drain.
                next = out_ && out_->ring.writable_from_consumer() != out_->ring.capacity()
                           ? run_state::lost
                           : run_state::finished;
                break;
            default: next = static_cast<run_state>(s); break;
            }
            if (state_.compare_exchange_weak(s, static_cast<int>(next), std::memory_order_acq_rel))
                break;
        }
        wake_all();
    }

    static int pa_callback(const void* in, void* out, unsigned long frames,
                           const PaStreamCallbackTimeInfo* time, PaStreamCallbackFlags flags,
                           void* self) noexcept
    {
        auto* core = static_cast<stream_core*>(self);
        const double adc = time ? time->inputBufferAdcTime : 0.0;
        const double dac = time ? time->outputBufferDacTime : 0.0;
        core->observe(frames, time ? time->currentTime : 0.0, adc, dac);
        return core->process(in, out, frames, flags, adc, dac);
    }
    static void pa_finished(void* self) noexcept { static_cast<stream_core*>(self)->finished(); }

    // ---- io thread ------------------------------------------------------

    direction dir() const noexcept { return dir_; }
    direction_bridge& input() noexcept { return *in_; }
    direction_bridge& output() noexcept { return *out_; }
    const direction_bridge& input() const noexcept { return *in_; }
    const direction_bridge& output() const noexcept { return *out_; }
    /// The parameters of a one-direction stream; the input's of a duplex one.
    const stream_params& params() const noexcept { return in_ ? in_->params : out_->params; }
    /// The ring of a one-direction stream; the input's of a duplex one.
    frame_ring& ring() noexcept { return in_ ? in_->ring : out_->ring; }
    PaStream* native_handle() const noexcept { return pa_; }
    /// Callbacks run so far, for telling a stalled stream from a live one.
    std::uint64_t callbacks() const noexcept { return callbacks_.get(); }
    /// Records that the io side found the callbacks stalled (the stall
    /// timeout passed without one).
    void mark_stalled() noexcept { stalled_at_.store(callbacks(), std::memory_order_relaxed); }
    /// True from a stall until the next callback.
    bool stalled() const noexcept
    {
        const std::uint64_t at = stalled_at_.load(std::memory_order_relaxed);
        return at != no_stall && at == callbacks();
    }
    /// Wakes every parked operation, so that it looks at the stream again.
    void wake_waiters() noexcept { wake_all(); }
    run_state state() const noexcept
    {
        return static_cast<run_state>(state_.load(std::memory_order_acquire));
    }
    bool is_open() const noexcept { return state() != run_state::closed; }

    /// Frames the io side can move now on `c`: readable for input, free for output.
    std::size_t ready(direction_bridge& c) noexcept
    {
        return &c == in_.operator->() ? c.ring.read_available() : c.ring.write_available();
    }

    /// True when waiting on `c` cannot help: no more frames will come (input) or go (output).
    bool will_not_progress(const direction_bridge& c) const noexcept
    {
        switch (state()) {
        case run_state::running:
        case run_state::draining: return false;
        case run_state::stopped: return &c == in_.operator->(); // output may pre-roll until full
        default: return true;
        }
    }

    /// The error a blocked operation completes with when `will_not_progress()`.
    std::error_code halt_reason() const noexcept
    {
        switch (state()) {
        case run_state::closed: return make_error_code(errc::not_open);
        case run_state::lost: return make_error_code(errc::device_lost);
        default: return make_error_code(errc::not_running);
        }
    }

    /// Notices a stream that died without telling: some hosts (JACK among
    /// them) stop calling back when their server goes away, and only
    /// `Pa_IsStreamActive` tells. Marks the stream lost and wakes the parked
    /// operations.
    void check_alive() noexcept
    {
        if (pa_ == nullptr || state() != run_state::running || Pa_IsStreamActive(pa_) == 1) return;
        int expected = static_cast<int>(run_state::running);
        if (state_.compare_exchange_strong(expected, static_cast<int>(run_state::lost),
                                           std::memory_order_acq_rel))
            wake_all();
    }

    /// Announces that an operation on `c` waits for `want` frames and
    /// re-checks. Returns false (not parked) when it can go on already: the
    /// re-check after the exchange closes the race with the audio thread.
    bool park(direction_bridge& c, std::size_t want) noexcept
    {
        c.parked.exchange(want, std::memory_order_acq_rel);
        if (ready(c) >= want || will_not_progress(c)) {
            c.parked.exchange(0, std::memory_order_acq_rel);
            return false;
        }
        return true;
    }
    void unpark(direction_bridge& c) noexcept { c.parked.store(0, std::memory_order_relaxed); }

    stream_counters counters() const noexcept
    {
        stream_counters s;
        if (in_) {
            s.frames += in_->published.frames.get();
            s.overflows = in_->published.overflows.get();
            s.frames_dropped = in_->published.frames_dropped.get();
            s.host_overflows = in_->published.host_overflows.get();
        }
        if (out_) {
            if (!in_) s.frames = out_->published.frames.get();
            s.underflows = out_->published.underflows.get();
            s.silence_frames = out_->published.silence_frames.get();
            s.host_underflows = out_->published.host_underflows.get();
        }
        return s;
    }

    /// The stream's clock (PortAudio's stream time), in seconds; 0 without PortAudio.
    double time() const noexcept { return pa_ != nullptr ? Pa_GetStreamTime(pa_) : 0.0; }
    /// The fraction of the callback's time budget spent, as PortAudio measures it.
    double cpu_load() const noexcept { return pa_ != nullptr ? Pa_GetStreamCpuLoad(pa_) : 0.0; }

    /// Starts the stream, or starts again one that stopped or finished;
    /// `errc::device_lost` for a stream whose device or server went away.
    std::error_code start();

    /// Input: stops capture at once. Output: plays what is queued, then stops.
    std::error_code stop();

    /// Stops at once, discarding what the host has buffered.
    std::error_code abort();

    /// Asks the callback to finish once the queued output has been played.
    void request_drain() noexcept
    {
        int expected = static_cast<int>(run_state::running);
        state_.compare_exchange_strong(expected, static_cast<int>(run_state::draining));
    }

    /// Closes the PortAudio stream (aborting it if active). Idempotent.
    /// Returns once PortAudio has closed it, or when the patience of a
    /// control call has run out (at once, on a stream found stalled): the
    /// close then goes on on the control thread, which keeps the core (and
    /// PortAudio's initialisation) until it is done. On JACK 2 it may first
    /// wait for the server's graph to settle (see jack_graph).
    void close() noexcept;

    /// Attaches the PortAudio stream that `open_core` (stream_open.hpp)
    /// opened with this core as its callback's user data, and the library
    /// reference that keeps PortAudio initialised for it. `jack`: the stream
    /// is on a JACK 2 server (see jack_graph), which has just registered its
    /// ports.
    void adopt(PaStream* pa, library_ref lib, bool jack) noexcept;

    /// Attaches (or, with null, forgets) the external driver of a core with no
    /// PortAudio stream behind it.
    void set_driver(external_driver* d) noexcept { driver_ = d; }

private:
    void wake_all() noexcept
    {
        if (in_) in_->wake();
        if (out_) out_->wake();
    }

    /// One cycle of the host, as far as it is known: the frames of the last
    /// callback, else those asked for, else 1024.
    std::chrono::duration<double> host_period() const noexcept;

    /// How long a caller waits for a control call before it reports
    /// `errc::host_not_responding` and leaves the call to the control thread: the stall
    /// timeout (`default_patience` without one) beyond the stream's latency.
    std::chrono::steady_clock::duration patience() const noexcept;
    static constexpr std::chrono::seconds default_patience{2};

    /// Makes `fn(pa)` on the control thread and waits at most `patience`
    /// for it; `errc::host_not_responding` when it has not returned by then. A core that
    /// nobody shares cannot be kept alive there, and makes it here.
    template <class Fn>
    std::error_code on_control_thread(Fn fn, std::chrono::steady_clock::duration patience,
                                      bool must_run)
    {
        std::shared_ptr<stream_core> keep = weak_from_this().lock();
        if (!keep) return pa_error(fn(pa_));
        std::optional<int> r;
        try {
            r = control_thread::run(
                [keep = std::move(keep), pa = pa_, fn] { return static_cast<int>(fn(pa)); },
                patience, must_run);
        } catch (const std::bad_alloc&) {
            return pa_error(fn(pa_)); // no memory to hand it over (close is noexcept): here, then
        }
        return r ? pa_error(static_cast<PaError>(*r)) : make_error_code(errc::host_not_responding);
    }

    /// Waits until the callback has played out the queued output and the
    /// stream has finished, on the bridge's doorbell: `finished()` rings it.
    /// Bounded by the ring's duration plus the host latency and a second,
    /// and, with a stall timeout, by callbacks that stop coming: a stalled
    /// host plays nothing more, however long stop waits.
    ///
    /// The wait drains the doorbell, so it may take a ring meant for an
    /// operation parked on the output; `halt`, which follows, wakes every
    /// parked operation again.
    void wait_for_drain(direction_bridge& c) noexcept;

    /// Stops the PortAudio stream with `fn` (Pa_StopStream or
    /// Pa_AbortStream) on the control thread, leaves the core stopped (or
    /// lost) and wakes every parked operation.
    std::error_code halt(PaError (*fn)(PaStream*));

    const direction dir_;
    std::optional<direction_bridge> in_;
    std::optional<direction_bridge> out_;
    PaStream* pa_ = nullptr;
    bool jack_ = false;        ///< on PortAudio's JACK host: see jack_graph
    library_ref lib_{nullptr}; ///< held by a core with a PortAudio stream behind it
    external_driver* driver_ = nullptr;
    single_writer_counter callbacks_;
    static constexpr std::uint64_t no_stall = ~std::uint64_t{0};
    /// The callback count when the io side last found the stream stalled.
    std::atomic<std::uint64_t> stalled_at_{no_stall};
    std::atomic<int> state_{static_cast<int>(run_state::stopped)};
};

} // namespace coaudio::detail

#include <coaudio/detail/impl/stream_control.hpp>

#endif
