// libFuzzer: stream configurations made of random bytes go through the same
// validation as open(): each must come back as success or a clear error,
// never a crash. Device selection by name is fuzzed on the same input.
#include <coaudio/device.hpp>
#include <coaudio/settings.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

namespace {

template <class T>
T take(const std::uint8_t*& p, std::size_t& left)
{
    T v{};
    const std::size_t n = std::min(sizeof v, left);
    std::memcpy(&v, p, n);
    p += n;
    left -= n;
    return v;
}

bool clear(const std::error_code& ec)
{
    return !ec || !ec.message().empty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static coaudio::library lib; // PortAudio stays initialised across inputs
    static const auto devices = coaudio::devices();
    const std::uint8_t* p = data;
    std::size_t left = size;
    coaudio::stream_config cfg;
    if (take<std::uint8_t>(p, left) & 1) cfg.device = take<std::int32_t>(p, left) % 64;
    cfg.channels = take<std::int16_t>(p, left);
    cfg.format = static_cast<coaudio::sample_format>(take<std::uint8_t>(p, left) % 8);
    cfg.sample_rate = take<double>(p, left);
    cfg.frames_per_block = take<std::uint16_t>(p, left);
    cfg.latency.kind = static_cast<coaudio::latency_hint::mode>(take<std::uint8_t>(p, left) % 4);
    cfg.latency.value = take<double>(p, left);
    cfg.ring_frames = take<std::uint32_t>(p, left);

    std::error_code ec;
    coaudio::check_input_settings(cfg, ec);
    if (!clear(ec)) std::abort();
    coaudio::check_output_settings(cfg, ec);
    if (!clear(ec)) std::abort();
    coaudio::check_duplex_settings({cfg, cfg}, ec);
    if (!clear(ec)) std::abort();

    const std::string_view name(reinterpret_cast<const char*>(p), left);
    const auto matches = coaudio::match_devices(devices, name);
    try {
        const auto d = coaudio::select_device(devices, name);
        if (matches.size() != 1 || d.index != matches.front().index) std::abort();
    } catch (const std::system_error& e) {
        if (matches.size() == 1 || e.code().category() != coaudio::coaudio_category()) std::abort();
    }
    return 0;
}
