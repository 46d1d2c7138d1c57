// coaudio: stream configuration.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_STREAM_CONFIG_HPP
#define COAUDIO_STREAM_CONFIG_HPP

#include <coaudio/detail/namespace.hpp>
#include <coaudio/sample_format.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// Which device a stream opens: the host's default for its direction (the
/// empty selector), a PortAudio index, or a name. A name is resolved when the
/// stream opens, with the rules of `find_device` among the devices that have
/// channels in the stream's direction: an exact name wins, otherwise one
/// device whose name contains it, ignoring case. None fails the open with
/// `errc::device_not_found`, several with `errc::ambiguous_device`.
class device_selector {
public:
    device_selector() = default;
    device_selector(std::nullopt_t) noexcept {}
    device_selector(int index) noexcept : which_(index) {}
    device_selector(std::optional<int> index) noexcept
    {
        if (index) which_ = *index;
    }
    device_selector(std::string name) : which_(std::move(name)) {}
    device_selector(std::string_view name) : which_(std::string(name)) {}
    device_selector(const char* name) : which_(std::string(name)) {}

    /// True unless this is the host's default device.
    explicit operator bool() const noexcept
    {
        return !std::holds_alternative<std::monostate>(which_);
    }
    /// The index, or null when this is the default or a name.
    const int* index() const noexcept { return std::get_if<int>(&which_); }
    /// The name, or null when this is the default or an index.
    const std::string* name() const noexcept { return std::get_if<std::string>(&which_); }

    friend bool operator==(const device_selector&, const device_selector&) = default;

private:
    std::variant<std::monostate, int, std::string> which_;
};

/// The latency asked of the host: its low or high default for the device, or
/// a number of seconds. The host may grant something else.
struct latency_hint {
    enum class mode { low, high, seconds };
    mode kind = mode::high;
    double value = 0.0;

    static constexpr latency_hint low() noexcept { return {mode::low, 0.0}; }
    static constexpr latency_hint high() noexcept { return {mode::high, 0.0}; }
    static constexpr latency_hint seconds(double s) noexcept { return {mode::seconds, s}; }
};

/// Everything needed to open a stream. Designated initialisers read well:
/// `{.device = "USB", .channels = 2, .sample_rate = 48000, .frames_per_block = 256}`.
struct stream_config {
    /// The device: a PortAudio index or a name (see `device_selector`);
    /// empty means the host's default device for the direction.
    device_selector device{};
    /// Samples per frame (interleaved).
    int channels = 1;
    sample_format format = sample_format::float32;
    /// Frames per second; 0 means the device's default rate.
    double sample_rate = 0.0;
    /// Frames per callback; 0 lets the host choose (and vary) the block size.
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
    /// Capacity of the ring between the audio thread and the io_context, in
    /// frames, rounded up to a power of two. 0 picks about 100 ms and at least
    /// four blocks. For input it is how long a reader may stall before frames
    /// are dropped; for output it is how far a writer may run ahead.
    std::size_t ring_frames = 0;
    /// When true a read whose data follows lost frames completes with
    /// `errc::input_overflow` (and its data). By default the loss is only
    /// reported through `last_read()` and the counters, so a read loop that
    /// does not care about overflows keeps running.
    bool overflow_is_error = false;
    /// Off when zero. Otherwise, when no callback has come for this long
    /// while a read, write or drain waits, that operation completes with
    /// `errc::stalled`. Some hosts just stop calling back when their server
    /// goes away or freezes (ALSA's `jack` plugin, a SIGSTOPped server),
    /// which no error reports. The stream stays open: later operations wait
    /// again and go on once callbacks resume. Detected within a quarter of
    /// the timeout (at most 200 ms) after it has passed. `stop` of a
    /// stalled output discards what is queued instead of waiting for it.
    std::chrono::milliseconds stall_timeout{0};
    /// Which device channels the stream's channels are, counted from 1 as
    /// sounddevice's `mapping` is: `{3, 4}` records the device's inputs 3
    /// and 4 as the stream's channels 1 and 2 (or plays them on outputs 3
    /// and 4). Empty: the device's first `channels` channels. With a
    /// mapping, `channels` is its size (leave it at 1, or give the same
    /// number). Device channels not in it are ignored on input and silent
    /// on output; the selection is part of the callback's one copy. At most
    /// `max_mapped_channels` entries, each named once.
    std::vector<int> mapping{};
};

/// The most channels a `stream_config::mapping` may list.
inline constexpr std::size_t max_mapped_channels = 64;

/// A full-duplex stream's two halves. They share one clock: the sample rate
/// and block size may be given in either half (or both, equal); device,
/// channels, format, latency and ring size are per half.
struct duplex_config {
    stream_config input;
    stream_config output;
};

} // namespace coaudio

#endif
