// coaudio: a virtual audio device for tests and headless machines.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_VIRTUAL_DEVICE_HPP
#define COAUDIO_VIRTUAL_DEVICE_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/duplex_stream.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/output_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// The clock and block size of a virtual device.
struct virtual_device_options {
    double sample_rate = 48000;
    unsigned long frames_per_block = 256;
};

/// A capture and playback device with no hardware behind it, on the same
/// stream types as real devices, for tests and for machines without a
/// sound card.
///
/// Streams opened on it are driven either by `step()`, which runs callbacks
/// on the calling thread as fast as it can (a test steps faster than real
/// time and decides exactly when each block happens), or by `start_clock()`,
/// which runs them on a thread of the device's at the real block period.
/// What the output streams played in one block is what the input streams
/// capture in the next (a loopback with one block of delay) when their
/// frame layouts match, silence otherwise.
///
/// Faults on demand: `inject_input_overflow()` and `inject_output_underflow()`
/// raise the host's flags on the next callback; `lose()` ends every stream as
/// an unplugged device would, so pending operations fail with
/// `errc::device_lost`. Destroying the device loses its streams likewise.
class virtual_device final : private detail::external_driver {
public:
    explicit virtual_device(virtual_device_options options = {}) : options_(options) {}
    virtual_device(const virtual_device&) = delete;
    virtual_device& operator=(const virtual_device&) = delete;

    ~virtual_device()
    {
        stop_clock();
        lose();
        std::lock_guard lock(mutex_);
        for (auto& a : attached_)
            a.core->set_driver(nullptr);
    }

    /// Opens `stream` (input or output) on this device. The rate and block
    /// size are the device's; channels, format and ring size come from `cfg`.
    template <class Stream>
    void open(Stream& stream, const stream_config& cfg = {})
    {
        constexpr bool input = requires
        {
            stream.frames_available();
        };
        const auto dir = input ? detail::direction::input : detail::direction::output;
        auto core = std::make_unique<detail::stream_core>(dir, params(cfg), cfg.ring_frames);
        attach(*core);
        detail::core_access::open(stream, std::move(core));
    }

    /// Opens a duplex stream on this device.
    template <class Executor>
    void open(basic_duplex_stream<Executor>& stream, const duplex_config& cfg = {})
    {
        auto core = std::make_unique<detail::stream_core>(
            params(cfg.input), cfg.input.ring_frames, params(cfg.output), cfg.output.ring_frames);
        attach(*core);
        detail::core_access::open(stream, std::move(core));
    }

    /// Runs `blocks` callbacks of every running stream on this thread, now.
    void step(std::size_t blocks = 1)
    {
        std::lock_guard lock(mutex_);
        for (std::size_t b = 0; b < blocks; ++b)
            run_block();
    }

    /// Runs callbacks on a thread of the device's, one block per period of
    /// real time, until `stop_clock()`.
    void start_clock()
    {
        if (clock_.joinable()) return;
        clock_running_ = true;
        clock_ = std::thread([this] {
            const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(double(options_.frames_per_block) /
                                              options_.sample_rate));
            auto next = std::chrono::steady_clock::now();
            while (clock_running_.load(std::memory_order_relaxed)) {
                step(1);
                next += period;
                std::this_thread::sleep_until(next);
            }
        });
    }
    void stop_clock()
    {
        clock_running_ = false;
        if (clock_.joinable()) clock_.join();
    }

    /// The next callback reports input lost by the host (paInputOverflow).
    void inject_input_overflow() noexcept { flags_.fetch_or(paInputOverflow); }
    /// The next callback reports an output gap (paOutputUnderflow).
    void inject_output_underflow() noexcept { flags_.fetch_or(paOutputUnderflow); }

    /// Ends every stream as an unplugged device would.
    void lose()
    {
        std::lock_guard lock(mutex_);
        for (auto& a : attached_)
            a.core->finished();
        lost_ = true;
    }

    /// Callbacks run so far.
    std::uint64_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }
    /// The device clock, in seconds: blocks run so far times the block's duration.
    double time() const noexcept
    {
        return double(blocks()) * double(options_.frames_per_block) / options_.sample_rate;
    }

private:
    struct attachment {
        detail::stream_core* core;
        std::vector<std::byte> in, out;
    };

    detail::stream_params params(const stream_config& cfg) const
    {
        detail::stream_params p;
        p.device = -1;
        p.format = cfg.format;
        p.sample_rate = options_.sample_rate;
        p.frames_per_block = options_.frames_per_block;
        p.latency = double(options_.frames_per_block) / options_.sample_rate;
        p.overflow_is_error = cfg.overflow_is_error;
        p.stall_timeout = cfg.stall_timeout;
        // Any number of channels: a mapping names the device channels it uses.
        std::string why;
        if (auto ec = detail::resolve_channels(cfg, std::numeric_limits<std::uint16_t>::max(), "",
                                               "'virtual device'", p, why))
            throw std::system_error(ec, "coaudio: virtual_device: " + why);
        return p;
    }

    void attach(detail::stream_core& core)
    {
        std::lock_guard lock(mutex_);
        if (lost_)
            throw std::system_error(make_error_code(errc::device_lost), "coaudio: virtual_device");
        attachment a{&core, {}, {}};
        if (has_input(core.dir()))
            a.in.resize(options_.frames_per_block * core.input().params.device_frame_bytes());
        if (has_output(core.dir()))
            a.out.resize(options_.frames_per_block * core.output().params.device_frame_bytes());
        attached_.push_back(std::move(a));
        core.set_driver(this);
    }

    void detach(detail::stream_core& core) noexcept override
    {
        std::lock_guard lock(mutex_); // waits for a callback in progress
        std::erase_if(attached_, [&](const attachment& a) { return a.core == &core; });
    }

    // One callback of every running stream: inputs first get what the
    // outputs played in the previous block, then each stream runs.
    void run_block()
    {
        const std::size_t frames = options_.frames_per_block;
        const PaStreamCallbackFlags flags = flags_.exchange(0);
        const double t = time();
        const double block_time = double(frames) / options_.sample_rate;
        std::span<const std::byte> played = wire_;
        for (auto& a : attached_) {
            if (!a.in.empty()) {
                const std::byte fill = silence_byte(a.core->input().params.format);
                if (played.size() == a.in.size() &&
                    wire_frame_bytes_ == a.core->input().params.device_frame_bytes())
                    std::memcpy(a.in.data(), played.data(), a.in.size());
                else
                    std::memset(a.in.data(), std::to_integer<int>(fill), a.in.size());
            }
        }
        bool wired = false;
        for (auto& a : attached_) {
            const detail::run_state s = a.core->state();
            if (s != detail::run_state::running && s != detail::run_state::draining) continue;
            a.core->observe(frames, 0.0, 0.0, 0.0); // the block; the latency is the device's own
            // As a host may, hand the callback an output buffer holding
            // stale data: every byte of it is the callback's to write.
            if (!a.out.empty()) std::memset(a.out.data(), 0x5a, a.out.size());
            const int rc = a.core->process(a.in.empty() ? nullptr : a.in.data(),
                                           a.out.empty() ? nullptr : a.out.data(), frames, flags, t,
                                           t + block_time);
            if (!a.out.empty() && !wired) {
                next_wire_.assign(a.out.begin(), a.out.end());
                next_wire_frame_bytes_ = a.core->output().params.device_frame_bytes();
                wired = true;
            }
            if (rc == paComplete) a.core->finished();
        }
        if (!wired) next_wire_.clear();
        std::swap(wire_, next_wire_);
        wire_frame_bytes_ = next_wire_frame_bytes_;
        blocks_.fetch_add(1, std::memory_order_relaxed);
    }

    const virtual_device_options options_;
    std::mutex mutex_;
    std::vector<attachment> attached_;
    std::vector<std::byte> wire_, next_wire_;
    std::size_t wire_frame_bytes_ = 0, next_wire_frame_bytes_ = 0;
    std::atomic<PaStreamCallbackFlags> flags_{0};
    std::atomic<std::uint64_t> blocks_{0};
    bool lost_ = false;
    std::thread clock_;
    std::atomic<bool> clock_running_{false};
};

} // namespace coaudio

#endif
