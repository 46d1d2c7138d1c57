// coaudio: sample formats.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SAMPLE_FORMAT_HPP
#define COAUDIO_SAMPLE_FORMAT_HPP

#include <coaudio/detail/namespace.hpp>

#include <portaudio.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// How one sample is stored. Frames are interleaved: `channels` samples per frame.
enum class sample_format { float32, int32, int24, int16, int8, uint8 };

/// Bytes per sample (int24 is packed, three bytes).
constexpr std::size_t sample_bytes(sample_format f) noexcept
{
    switch (f) {
    case sample_format::float32:
    case sample_format::int32: return 4;
    case sample_format::int24: return 3;
    case sample_format::int16: return 2;
    case sample_format::int8:
    case sample_format::uint8: return 1;
    }
    return 0;
}

/// The matching PortAudio format flag.
constexpr PaSampleFormat to_portaudio(sample_format f) noexcept
{
    switch (f) {
    case sample_format::float32: return paFloat32;
    case sample_format::int32: return paInt32;
    case sample_format::int24: return paInt24;
    case sample_format::int16: return paInt16;
    case sample_format::int8: return paInt8;
    case sample_format::uint8: return paUInt8;
    }
    return paFloat32;
}

/// The byte value that encodes silence (unsigned 8-bit is offset binary).
constexpr std::byte silence_byte(sample_format f) noexcept
{
    return f == sample_format::uint8 ? std::byte{0x80} : std::byte{0};
}

constexpr const char* to_string(sample_format f) noexcept
{
    switch (f) {
    case sample_format::float32: return "float32";
    case sample_format::int32: return "int32";
    case sample_format::int24: return "int24";
    case sample_format::int16: return "int16";
    case sample_format::int8: return "int8";
    case sample_format::uint8: return "uint8";
    }
    return "?";
}

/// A packed 24-bit signed sample, three bytes in native byte order, as
/// PortAudio's paInt24 lays it out: spans of `int24_t` are int24 buffers.
struct int24_t {
    std::array<std::uint8_t, 3> bytes{};

    int24_t() = default;
    /// The low 24 bits of `v` (callers keep it within [-8388608, 8388607]).
    constexpr explicit int24_t(std::int32_t v) noexcept
    {
        const auto u = static_cast<std::uint32_t>(v);
        if constexpr (std::endian::native == std::endian::little)
            bytes = {std::uint8_t(u), std::uint8_t(u >> 8), std::uint8_t(u >> 16)};
        else
            bytes = {std::uint8_t(u >> 16), std::uint8_t(u >> 8), std::uint8_t(u)};
    }
    /// The sample, sign-extended.
    constexpr std::int32_t value() const noexcept
    {
        std::uint32_t u =
            std::endian::native == std::endian::little
                ? bytes[0] | (std::uint32_t(bytes[1]) << 8) | (std::uint32_t(bytes[2]) << 16)
                : bytes[2] | (std::uint32_t(bytes[1]) << 8) | (std::uint32_t(bytes[0]) << 16);
        if (u & 0x800000u) u |= 0xFF000000u;
        return static_cast<std::int32_t>(u);
    }
    friend constexpr bool operator==(const int24_t&, const int24_t&) = default;
};
static_assert(sizeof(int24_t) == 3 && alignof(int24_t) == 1);

/// Maps a C++ sample type to its format; the typed stream operations accept
/// exactly the types that have a specialisation.
template <class T>
struct sample_traits;
template <>
struct sample_traits<float> {
    static constexpr sample_format format = sample_format::float32;
};
template <>
struct sample_traits<std::int32_t> {
    static constexpr sample_format format = sample_format::int32;
};
template <>
struct sample_traits<int24_t> {
    static constexpr sample_format format = sample_format::int24;
};
template <>
struct sample_traits<std::int16_t> {
    static constexpr sample_format format = sample_format::int16;
};
template <>
struct sample_traits<std::int8_t> {
    static constexpr sample_format format = sample_format::int8;
};
template <>
struct sample_traits<std::uint8_t> {
    static constexpr sample_format format = sample_format::uint8;
};

/// Satisfied by the sample types the typed operations accept.
template <class T>
concept sample_type = requires
{
    sample_traits<T>::format;
};

} // namespace coaudio

#endif
