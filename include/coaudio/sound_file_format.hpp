// coaudio: libsndfile's errors as error codes, and a file format chosen from a file's name.
//
// Optional: needs libsndfile (with CMake, link coaudio::sndfile). Included by
// coaudio/sound_file.hpp.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SOUND_FILE_FORMAT_HPP
#define COAUDIO_SOUND_FILE_FORMAT_HPP

#if !__has_include(<sndfile.h>)
#  error                                                                                           \
      "coaudio/sound_file_format.hpp needs libsndfile (Debian: libsndfile1-dev); with CMake, link coaudio::sndfile"
#endif

#include <sndfile.h>

#include <coaudio/config.hpp>
#include <coaudio/error.hpp>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

// ---- Errors -------------------------------------------------------------------------------

namespace detail {
class sndfile_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "sndfile"; }
    std::string message(int ev) const override { return sf_error_number(ev); }
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        switch (ev) {
        case SF_ERR_UNRECOGNISED_FORMAT:
        case SF_ERR_UNSUPPORTED_ENCODING: return std::errc::not_supported;
        case SF_ERR_SYSTEM: return std::errc::io_error;
        default: return {ev, *this};
        }
    }
};
} // namespace detail

/// The category of libsndfile's error numbers (`sf_error`); `message()` is
/// `sf_error_number`. `SF_ERR_UNRECOGNISED_FORMAT` and
/// `SF_ERR_UNSUPPORTED_ENCODING` compare equal to `std::errc::not_supported`.
inline const std::error_category& sndfile_category() noexcept
{
    static const detail::sndfile_category_impl instance;
    return instance;
}

namespace detail {

/// An error of libsndfile's as an error_code; a system error (a file that
/// cannot be opened or written) as the `errno` behind it where there is one.
inline std::error_code sndfile_error(int sf_code, int saved_errno = 0) noexcept
{
    if (sf_code == SF_ERR_NO_ERROR) return {};
    if (sf_code == SF_ERR_SYSTEM && saved_errno != 0) return {saved_errno, std::generic_category()};
    return {sf_code, sndfile_category()};
}

inline std::string lower(std::string s)
{
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Throws `std::system_error` naming the file and, for libsndfile's own
/// errors, its detailed explanation.
inline void throw_file_error(const std::error_code& ec, const char* what,
                             const std::filesystem::path& path, const std::string& detail = {})
{
    if (!ec) return;
    std::string text = std::string("coaudio: ") + what + " " + path.string();
    if (!detail.empty() && detail != ec.message()) text += " (" + detail + ")";
    throw std::system_error(ec, text);
}

} // namespace detail

// ---- Formats --------------------------------------------------------------------------------

/// The libsndfile format (`SF_FORMAT_*` major type | encoding) that
/// `sound_file::create` uses for `path` when given none: the major type from
/// the file name's extension (wav, flac, ogg/oga, opus, aiff/aif, au, caf,
/// w64, rf64, mp3 and the others libsndfile knows), with 16-bit PCM where the
/// type takes it, else its usual encoding (Vorbis, Opus, MPEG layer III).
/// Sets `ec` to `SF_ERR_UNRECOGNISED_FORMAT` (`std::errc::not_supported`) for
/// an extension libsndfile does not write.
namespace detail {
// SF_FORMAT_OPUS (libsndfile 1.0.29) and SF_FORMAT_MPEG_LAYER_III (1.1.0) by
// value, so that an older libsndfile builds this header too (and refuses them).
inline constexpr int sf_format_opus = 0x0064;
inline constexpr int sf_format_mpeg_layer_iii = 0x0082;
} // namespace detail

inline int file_format_for(const std::filesystem::path& path, int channels, double sample_rate,
                           std::error_code& ec)
{
    ec.clear();
    std::string ext = detail::lower(path.extension().string());
    if (!ext.empty() && ext.front() == '.') ext.erase(0, 1);
    int forced_subtype = 0;
    if (ext == "aif" || ext == "aifc")
        ext = "aiff";
    else if (ext == "ogg")
        ext = "oga";
    else if (ext == "opus") {
        ext = "oga";
        forced_subtype = detail::sf_format_opus;
    } else if (ext == "mp3")
        ext = "m1a";
    else if (ext == "snd")
        ext = "au";

    int major = 0;
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof(int));
    for (int i = 0; i < count && major == 0 && !ext.empty(); ++i) {
        SF_FORMAT_INFO fi{};
        fi.format = i;
        if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &fi, sizeof(fi)) == 0 &&
            fi.extension != nullptr && detail::lower(fi.extension) == ext)
            major = fi.format; // the first in libsndfile's list: WAV (Microsoft) for "wav"
    }
    if (major == 0) {
        ec = detail::sndfile_error(SF_ERR_UNRECOGNISED_FORMAT);
        return 0;
    }
    SF_INFO info{};
    info.channels = channels;
    info.samplerate = static_cast<int>(std::lround(sample_rate));
    const int candidates[] = {forced_subtype != 0 ? forced_subtype : SF_FORMAT_PCM_16,
                              SF_FORMAT_VORBIS,
                              detail::sf_format_opus,
                              detail::sf_format_mpeg_layer_iii,
                              SF_FORMAT_FLOAT,
                              SF_FORMAT_PCM_S8,
                              SF_FORMAT_PCM_U8};
    for (int subtype : candidates) {
        info.format = major | subtype;
        if (sf_format_check(&info)) return info.format;
    }
    ec = detail::sndfile_error(SF_ERR_UNSUPPORTED_ENCODING);
    return 0;
}

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE

#endif
