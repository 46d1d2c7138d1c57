// coaudio: the non-template heart of a stream, shared by the audio thread and the io thread.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_STREAM_CORE_HPP
#define COAUDIO_DETAIL_STREAM_CORE_HPP

#include <coaudio/detail/doorbell.hpp>
#include <coaudio/error.hpp>
#include <coaudio/library.hpp>
#include <coaudio/ring.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>

#include <portaudio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

namespace coaudio::detail {

enum class direction : unsigned char { input, output };

/// A counter with one writer (the audio thread) and any number of readers:
/// a plain load and store, no read-modify-write on the hot path.
class single_writer_counter {
public:
    void add(std::uint64_t n) noexcept
    {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A gap in the captured data: frames lost just before ring position `position`.
struct gap {
    std::uint64_t position = 0;
    std::uint64_t frames = 0;
    std::uint32_t events = 0;
};

/// A small SPSC queue of gaps, published before the frames that follow them,
/// so the reader meets each gap exactly where it happened.
class gap_queue {
public:
    static constexpr std::size_t capacity = 64;

    bool push(const gap& g) noexcept
    {
        const std::uint64_t t = tail_.load(std::memory_order_relaxed);
        if (t - head_.load(std::memory_order_acquire) == capacity) return false;
        slots_[t % capacity] = g;
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    const gap* front() noexcept
    {
        const std::uint64_t h = head_.load(std::memory_order_relaxed);
        if (h == tail_.load(std::memory_order_acquire)) return nullptr;
        return &slots_[h % capacity];
    }
    void pop() noexcept { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

private:
    std::array<gap, capacity> slots_{};
    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint64_t> tail_{0};
};

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

/// The resolved parameters of an open stream.
struct stream_params {
    int device = -1;
    int channels = 1;
    sample_format format = sample_format::float32;
    double sample_rate = 0;
    unsigned long frames_per_block = 0;
    double latency = 0; ///< seconds, as granted by the host
    bool overflow_is_error = false;
    std::size_t frame_bytes() const noexcept { return sample_bytes(format) * static_cast<std::size_t>(channels); }
};

/// The state shared by the audio thread and the io thread: the ring, the
/// parked word, the doorbell, the counters and the PortAudio stream.
///
/// Heap-pinned: PortAudio holds its address as callback user data. The two
/// threads meet only in the ring, the parked word, the gap queue and the
/// atomics below; nothing here takes a lock or allocates after construction.
class stream_core {
public:
    /// A core with no PortAudio stream behind it: the caller plays the driver
    /// by calling `process` (and `finished` when `process` returns
    /// paComplete) from any one thread. For tests and virtual devices.
    stream_core(direction dir, const stream_params& p, std::size_t ring_frames)
        : dir_(dir), params_(p),
          ring_(ring_size(ring_frames, p), p.frame_bytes()),
          silence_(silence_byte(p.format))
    {
    }

    /// Opens a PortAudio stream for `cfg`. Returns null and sets `ec` on failure.
    static std::unique_ptr<stream_core> open(direction dir, const stream_config& cfg, std::error_code& ec)
    {
        ec = acquire_library();
        if (ec) return nullptr;
        // Any early return below hands the reference back via lib's destructor.
        struct lib_ref {
            bool held = true;
            ~lib_ref() { if (held) release_library(); }
        } lib;

        stream_params p;
        PaStreamParameters sp{};
        ec = resolve(dir, cfg, p, sp);
        if (ec) return nullptr;

        std::unique_ptr<stream_core> core;
        try {
            core = std::make_unique<stream_core>(dir, p, cfg.ring_frames);
        } catch (const std::system_error& e) {
            ec = e.code();
            return nullptr;
        }
        {
            std::lock_guard lock(control_mutex());
            const PaStreamParameters* in = dir == direction::input ? &sp : nullptr;
            const PaStreamParameters* out = dir == direction::output ? &sp : nullptr;
            ec = map_open_error(Pa_IsFormatSupported(in, out, p.sample_rate));
            if (!ec) {
                ec = map_open_error(Pa_OpenStream(&core->pa_, in, out, p.sample_rate,
                                                  p.frames_per_block == 0 ? paFramesPerBufferUnspecified
                                                                          : p.frames_per_block,
                                                  paNoFlag, &stream_core::pa_callback, core.get()));
            }
            if (ec) {
                core->pa_ = nullptr;
                return nullptr;
            }
            Pa_SetStreamFinishedCallback(core->pa_, &stream_core::pa_finished);
            if (const PaStreamInfo* info = Pa_GetStreamInfo(core->pa_)) {
                core->params_.sample_rate = info->sampleRate;
                core->params_.latency = dir == direction::input ? info->inputLatency : info->outputLatency;
            }
        }
        core->owns_library_ = true;
        lib.held = false;
        return core;
    }

    stream_core(const stream_core&) = delete;
    stream_core& operator=(const stream_core&) = delete;

    ~stream_core()
    {
        close();
    }

    // ---- audio thread ---------------------------------------------------

    /// The PortAudio callback, also callable by any thread playing the driver.
    /// Copies frames between the device buffer and the ring, counts losses
    /// and rings the doorbell only when a parked operation can now proceed.
    int process(const void* input, void* output, std::size_t frames, PaStreamCallbackFlags flags) noexcept
    {
        return dir_ == direction::input ? capture(input, frames, flags) : playback(output, frames, flags);
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
            case run_state::draining: next = run_state::finished; break;
            default: next = static_cast<run_state>(s); break;
            }
            if (state_.compare_exchange_weak(s, static_cast<int>(next), std::memory_order_acq_rel)) break;
        }
        parked_.store(0, std::memory_order_relaxed);
        bell_.ring();
    }

    static int pa_callback(const void* in, void* out, unsigned long frames, const PaStreamCallbackTimeInfo*,
                           PaStreamCallbackFlags flags, void* self) noexcept
    {
        return static_cast<stream_core*>(self)->process(in, out, frames, flags);
    }
    static void pa_finished(void* self) noexcept { static_cast<stream_core*>(self)->finished(); }

    // ---- io thread ------------------------------------------------------

    direction dir() const noexcept { return dir_; }
    const stream_params& params() const noexcept { return params_; }
    frame_ring& ring() noexcept { return ring_; }
    doorbell& bell() noexcept { return bell_; }
    PaStream* native_handle() const noexcept { return pa_; }
    run_state state() const noexcept { return static_cast<run_state>(state_.load(std::memory_order_acquire)); }
    bool is_open() const noexcept { return state() != run_state::closed; }

    /// Frames the io side can move now: readable for input, free for output.
    std::size_t ready() noexcept
    {
        return dir_ == direction::input ? ring_.read_available() : ring_.write_available();
    }

    /// True when waiting cannot help: no more frames will come (input) or go (output).
    bool will_not_progress() const noexcept
    {
        switch (state()) {
        case run_state::running:
        case run_state::draining: return false;
        case run_state::stopped: return dir_ == direction::input; // output may pre-roll until full
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
    /// operation. io thread only.
    void check_alive() noexcept
    {
        if (pa_ == nullptr || state() != run_state::running || Pa_IsStreamActive(pa_) == 1) return;
        int expected = static_cast<int>(run_state::running);
        if (state_.compare_exchange_strong(expected, static_cast<int>(run_state::lost), std::memory_order_acq_rel))
            bell_.ring();
    }

    /// Announces that an operation waits for `want` frames and re-checks.
    /// Returns false (not parked) when it can go on already: the re-check
    /// after the exchange closes the race with the audio thread.
    bool park(std::size_t want) noexcept
    {
        parked_.exchange(want, std::memory_order_acq_rel);
        if (ready() >= want || will_not_progress()) {
            parked_.exchange(0, std::memory_order_acq_rel);
            return false;
        }
        return true;
    }
    void unpark() noexcept { parked_.store(0, std::memory_order_relaxed); }

    /// Takes the gap (if any) that sits at the consumer's position, and
    /// returns how many frames may be read before the next gap.
    std::size_t take_gap(read_status& st, std::size_t max_frames) noexcept
    {
        const std::uint64_t r = ring_.read_index();
        const gap* g = gaps_.front();
        if (g != nullptr && g->position == r) {
            st.frames_lost += g->frames;
            st.overflows += g->events;
            gaps_.pop();
            g = gaps_.front();
        }
        if (const std::uint64_t sf = spilled_frames_.exchange(0, std::memory_order_acq_rel)) st.frames_lost += sf;
        if (const std::uint32_t se = spilled_events_.exchange(0, std::memory_order_acq_rel)) st.overflows += se;
        if (g != nullptr && g->position > r) max_frames = std::min<std::uint64_t>(max_frames, g->position - r);
        return max_frames;
    }

    /// True when a gap sits exactly at the consumer's position.
    bool gap_here() noexcept
    {
        const gap* g = gaps_.front();
        return g != nullptr && g->position == ring_.read_index();
    }

    stream_counters counters() const noexcept
    {
        return {frames_.get(),    overflows_.get(),  frames_dropped_.get(), host_overflows_.get(),
                underflows_.get(), silence_frames_.get(), host_underflows_.get()};
    }

    std::error_code start()
    {
        if (!is_open()) return make_error_code(errc::not_open);
        if (pa_ != nullptr && !Pa_IsStreamStopped(pa_)) {
            if (state() == run_state::running) return {};
            Pa_StopStream(pa_); // finished or lost: reset PortAudio's state first
        }
        state_.store(static_cast<int>(run_state::running), std::memory_order_release);
        if (pa_ == nullptr) return {};
        std::error_code ec = pa_error(Pa_StartStream(pa_));
        if (ec) state_.store(static_cast<int>(run_state::stopped), std::memory_order_release);
        return ec;
    }

    /// Input: stops capture at once. Output: plays what is queued, then stops.
    std::error_code stop()
    {
        if (!is_open()) return make_error_code(errc::not_open);
        if (dir_ == direction::output && state() == run_state::running) {
            int expected = static_cast<int>(run_state::running);
            state_.compare_exchange_strong(expected, static_cast<int>(run_state::draining));
            // The callback completes the stream once the ring is empty; wait
            // for that, bounded by the ring's duration plus the host latency.
            const double seconds = static_cast<double>(ring_.capacity()) / params_.sample_rate + params_.latency + 1.0;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
            while (state() == run_state::draining && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return halt(&Pa_StopStream);
    }

    /// Stops at once, discarding what the host has buffered.
    std::error_code abort()
    {
        if (!is_open()) return make_error_code(errc::not_open);
        return halt(&Pa_AbortStream);
    }

    /// Asks the callback to finish once the queued output has been played.
    /// Output only; the stream then reports `run_state::finished`.
    void request_drain() noexcept
    {
        int expected = static_cast<int>(run_state::running);
        state_.compare_exchange_strong(expected, static_cast<int>(run_state::draining));
    }

    /// Closes the PortAudio stream (aborting it if active). Idempotent.
    void close() noexcept
    {
        if (state() == run_state::closed) return;
        state_.store(static_cast<int>(run_state::stopping), std::memory_order_release);
        if (pa_ != nullptr) {
            std::lock_guard lock(control_mutex());
            Pa_CloseStream(pa_);
            pa_ = nullptr;
        }
        state_.store(static_cast<int>(run_state::closed), std::memory_order_release);
        bell_.ring();
        if (owns_library_) {
            owns_library_ = false;
            release_library();
        }
    }

private:
    static std::size_t ring_size(std::size_t requested, const stream_params& p)
    {
        if (requested != 0) return requested;
        const auto tenth = static_cast<std::size_t>(p.sample_rate / 10);
        return std::max<std::size_t>({tenth, 4 * std::size_t{p.frames_per_block}, 256});
    }

    static std::error_code map_open_error(PaError e) noexcept
    {
        switch (e) {
        case paInvalidSampleRate: return make_error_code(errc::invalid_sample_rate);
        case paInvalidChannelCount: return make_error_code(errc::invalid_channels);
        case paInvalidDevice: return make_error_code(errc::device_not_found);
        default: return pa_error(e);
        }
    }

    static std::error_code resolve(direction dir, const stream_config& cfg, stream_params& p, PaStreamParameters& sp)
    {
        const bool in = dir == direction::input;
        int dev = cfg.device ? *cfg.device : (in ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice());
        if (!cfg.device && dev == paNoDevice) return make_error_code(errc::no_default_device);
        if (dev < 0 || dev >= Pa_GetDeviceCount()) return make_error_code(errc::device_not_found);
        const PaDeviceInfo* info = Pa_GetDeviceInfo(dev);
        if (info == nullptr) return make_error_code(errc::device_not_found);
        const int max_channels = in ? info->maxInputChannels : info->maxOutputChannels;
        if (cfg.channels <= 0 || cfg.channels > max_channels) return make_error_code(errc::invalid_channels);
        const double rate = cfg.sample_rate == 0.0 ? info->defaultSampleRate : cfg.sample_rate;
        if (!(rate > 0.0) || !std::isfinite(rate)) return make_error_code(errc::invalid_sample_rate);
        double latency = 0;
        switch (cfg.latency.kind) {
        case latency_hint::mode::low: latency = in ? info->defaultLowInputLatency : info->defaultLowOutputLatency; break;
        case latency_hint::mode::high: latency = in ? info->defaultHighInputLatency : info->defaultHighOutputLatency; break;
        case latency_hint::mode::seconds:
            if (!(cfg.latency.value >= 0.0) || !std::isfinite(cfg.latency.value))
                return make_error_code(errc::invalid_config);
            latency = cfg.latency.value;
            break;
        }
        if (cfg.ring_frames > (std::size_t{1} << 30)) return make_error_code(errc::invalid_config);
        p.device = dev;
        p.channels = cfg.channels;
        p.format = cfg.format;
        p.sample_rate = rate;
        p.frames_per_block = cfg.frames_per_block;
        p.latency = latency;
        p.overflow_is_error = cfg.overflow_is_error;
        sp.device = dev;
        sp.channelCount = cfg.channels;
        sp.sampleFormat = to_portaudio(cfg.format);
        sp.suggestedLatency = latency;
        sp.hostApiSpecificStreamInfo = nullptr;
        return {};
    }

    std::error_code halt(PaError (*fn)(PaStream*))
    {
        const run_state before = state();
        state_.store(static_cast<int>(run_state::stopping), std::memory_order_release);
        std::error_code ec;
        if (pa_ != nullptr && !Pa_IsStreamStopped(pa_)) ec = pa_error(fn(pa_));
        // A lost stream stays lost so that pending and later operations learn why.
        state_.store(static_cast<int>(before == run_state::lost ? run_state::lost : run_state::stopped),
                     std::memory_order_release);
        bell_.ring();
        return ec;
    }

    // Rings the doorbell if a parked operation wanted no more than `ready`
    // frames. Both sides use read-modify-writes on parked_, so either this
    // one sees the want, or the io side's exchange synchronises with it and
    // its re-check sees the frames just published.
    void notify(std::size_t ready) noexcept
    {
        std::size_t want = parked_.fetch_add(0, std::memory_order_acq_rel);
        if (want != 0 && ready >= want && parked_.compare_exchange_strong(want, 0, std::memory_order_acq_rel))
            bell_.ring();
    }

    int capture(const void* input, std::size_t frames, PaStreamCallbackFlags flags) noexcept
    {
        if (flags & paInputOverflow) {
            host_overflows_.add(1);
            pending_.position = ring_.write_index();
            ++pending_.events;
        }
        const ring_regions r = ring_.prepare_write(frames);
        if (r.frames > 0) {
            if (pending_.events != 0) publish_gap();
            if (input != nullptr) {
                const auto* src = static_cast<const std::byte*>(input);
                std::memcpy(r.first.data(), src, r.first.size());
                if (!r.second.empty()) std::memcpy(r.second.data(), src + r.first.size(), r.second.size());
            } else { // the host had no input for this block
                std::memset(r.first.data(), std::to_integer<int>(silence_), r.first.size());
                std::memset(r.second.data(), std::to_integer<int>(silence_), r.second.size());
            }
            ring_.commit_write(r.frames);
            frames_.add(r.frames);
        }
        if (r.frames < frames) {
            const std::size_t lost = frames - r.frames;
            frames_dropped_.add(lost);
            if (pending_.events == 0) pending_.position = ring_.write_index();
            pending_.frames += lost;
            ++pending_.events;
        }
        if ((flags & paInputOverflow) || r.frames < frames) overflows_.add(1);
        if (r.frames > 0) notify(ring_.readable_from_producer());
        return paContinue;
    }

    // Makes the pending gap visible to the reader, ahead of the frames that follow it.
    void publish_gap() noexcept
    {
        // The queue holds more gaps than a full ring can separate; should it
        // fill anyway, the totals survive and are reported with the next gap.
        if (!gaps_.push(pending_)) {
            spilled_frames_.fetch_add(pending_.frames, std::memory_order_acq_rel);
            spilled_events_.fetch_add(pending_.events, std::memory_order_acq_rel);
        }
        pending_ = {};
    }

    int playback(void* output, std::size_t frames, PaStreamCallbackFlags flags) noexcept
    {
        if (flags & paOutputUnderflow) host_underflows_.add(1);
        const std::size_t got = ring_.read(output, frames);
        const bool draining = state_.load(std::memory_order_acquire) == static_cast<int>(run_state::draining);
        if (got < frames) {
            const std::size_t fb = params_.frame_bytes();
            std::memset(static_cast<std::byte*>(output) + got * fb, std::to_integer<int>(silence_),
                        (frames - got) * fb);
            // Before the first frame arrives silence is the expected pre-roll, and
            // after a drain it is the tail: neither is a writer falling behind.
            if (primed_ && !draining) {
                underflows_.add(1);
                silence_frames_.add(frames - got);
            }
        }
        if (got > 0) {
            primed_ = true;
            frames_.add(got);
        }
        notify(ring_.writable_from_consumer());
        if (draining && ring_.writable_from_consumer() == ring_.capacity()) return paComplete;
        return paContinue;
    }

    const direction dir_;
    stream_params params_;
    frame_ring ring_;
    doorbell bell_;
    PaStream* pa_ = nullptr;
    bool owns_library_ = false;
    const std::byte silence_;

    alignas(64) std::atomic<std::size_t> parked_{0};
    std::atomic<int> state_{static_cast<int>(run_state::stopped)};

    // Written by the audio thread only.
    gap pending_{};
    bool primed_ = false;
    single_writer_counter frames_, overflows_, frames_dropped_, host_overflows_;
    single_writer_counter underflows_, silence_frames_, host_underflows_;
    gap_queue gaps_;
    std::atomic<std::uint64_t> spilled_frames_{0};
    std::atomic<std::uint32_t> spilled_events_{0};
};

} // namespace coaudio::detail

#endif
