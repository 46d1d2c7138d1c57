// coaudio: sound files through libsndfile: open, read and write them a block at a time.
//
// Optional: needs libsndfile (Debian: libsndfile1-dev). With CMake, link
// coaudio::sndfile, which exists when libsndfile was found; it defines
// COAUDIO_HAS_SNDFILE=1. coaudio/sndfile.hpp adds streaming files to and from
// streams. coaudio/coaudio.hpp includes neither.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SOUND_FILE_HPP
#define COAUDIO_SOUND_FILE_HPP

#if !__has_include(<sndfile.h>)
#  error                                                                                           \
      "coaudio/sound_file.hpp needs libsndfile (Debian: libsndfile1-dev); with CMake, link coaudio::sndfile"
#endif

#include <sndfile.h>

#include <coaudio/config.hpp>
#include <coaudio/error.hpp>
#include <coaudio/sound_file_format.hpp>

#include <cerrno>
#include <climits>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

// ---- Files ----------------------------------------------------------------------------------

/// What a sound file holds.
struct sound_file_info {
    double sample_rate = 0;
    int channels = 0;
    /// Frames in the file when opened for reading; frames written so far when created.
    std::uint64_t frames = 0;
    /// `SF_FORMAT_*` major type | encoding.
    int format = 0;
};

/// The sample types libsndfile reads and writes directly; it converts
/// between them and the file's encoding (floats are full scale at ±1.0).
template <class T>
concept file_sample_type = std::same_as<T, float> || std::same_as<T, double> ||
    std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t>;

/// A sound file open for reading or for writing (an RAII `SNDFILE*`).
///
/// Frames are interleaved. Reading and writing go straight through
/// libsndfile, a block at a time, so a file of any length costs only the
/// buffers the caller passes. Writes clip out-of-range floats instead of
/// letting them wrap. Closing (or destroying) a written file finishes its
/// header. Movable, not copyable; not thread-safe.
class sound_file {
public:
    sound_file() noexcept = default;
    sound_file(const sound_file&) = delete;
    sound_file& operator=(const sound_file&) = delete;
    sound_file(sound_file&& other) noexcept
        : file_(std::exchange(other.file_, nullptr)), info_(other.info_),
          path_(std::move(other.path_))
    {
    }
    sound_file& operator=(sound_file&& other) noexcept
    {
        if (this != &other) {
            std::error_code ignored;
            close(ignored);
            file_ = std::exchange(other.file_, nullptr);
            info_ = other.info_;
            path_ = std::move(other.path_);
        }
        return *this;
    }
    ~sound_file()
    {
        std::error_code ignored;
        close(ignored);
    }

    /// Opens a file for reading. Errors: `std::errc::no_such_file_or_directory`,
    /// `std::errc::is_a_directory`, other system errors as `errno` (e.g.
    /// permission denied), `SF_ERR_UNRECOGNISED_FORMAT` (a file libsndfile
    /// cannot read), `SF_ERR_MALFORMED_FILE`, `SF_ERR_UNSUPPORTED_ENCODING`.
    static sound_file open(const std::filesystem::path& path)
    {
        std::error_code ec;
        sound_file f = open(path, ec);
        if (ec) // libsndfile explains its own errors in more detail than their codes
            detail::throw_file_error(ec, "cannot open", path,
                                     ec.category() == sndfile_category() ? sf_strerror(nullptr)
                                                                         : "");
        return f;
    }
    static sound_file open(const std::filesystem::path& path, std::error_code& ec)
    {
        ec.clear();
        std::error_code fs_ec;
        const auto status = std::filesystem::status(path, fs_ec);
        if (!std::filesystem::exists(status)) {
            ec = std::make_error_code(std::errc::no_such_file_or_directory);
            return {};
        }
        if (std::filesystem::is_directory(status)) {
            ec = std::make_error_code(std::errc::is_a_directory);
            return {};
        }
        SF_INFO info{};
        errno = 0;
        SNDFILE* f = sf_open(path.string().c_str(), SFM_READ, &info);
        if (f == nullptr) {
            ec = detail::sndfile_error(sf_error(nullptr), errno);
            return {};
        }
        return sound_file(f, info, path);
    }

    /// Creates (or truncates) a file for writing at `sample_rate` with
    /// `channels` channels, in `format` (`SF_FORMAT_*` major | encoding; 0:
    /// from the extension, see `file_format_for`). Errors:
    /// `errc::invalid_channels`, `errc::invalid_sample_rate`,
    /// `SF_ERR_UNRECOGNISED_FORMAT` (no format for that extension),
    /// `SF_ERR_UNSUPPORTED_ENCODING` (a format libsndfile cannot write with
    /// these settings), system errors as `errno`.
    static sound_file create(const std::filesystem::path& path, double sample_rate, int channels,
                             int format = 0)
    {
        std::error_code ec;
        sound_file f = create(path, sample_rate, channels, format, ec);
        detail::throw_file_error(ec, "cannot create", path);
        return f;
    }
    static sound_file create(const std::filesystem::path& path, double sample_rate, int channels,
                             int format, std::error_code& ec)
    {
        ec.clear();
        if (channels < 1) {
            ec = make_error_code(errc::invalid_channels);
            return {};
        }
        if (!(sample_rate >= 1.0) || sample_rate > double(INT_MAX)) {
            ec = make_error_code(errc::invalid_sample_rate);
            return {};
        }
        if (format == 0) {
            format = file_format_for(path, channels, sample_rate, ec);
            if (ec) return {};
        }
        SF_INFO info{};
        info.samplerate = static_cast<int>(std::lround(sample_rate));
        info.channels = channels;
        info.format = format;
        if (!sf_format_check(&info)) {
            ec = detail::sndfile_error(SF_ERR_UNSUPPORTED_ENCODING);
            return {};
        }
        errno = 0;
        SNDFILE* f = sf_open(path.string().c_str(), SFM_WRITE, &info);
        if (f == nullptr) {
            ec = detail::sndfile_error(sf_error(nullptr), errno);
            return {};
        }
        sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
        info.frames = 0;
        return sound_file(f, info, path);
    }

    bool is_open() const noexcept { return file_ != nullptr; }
    const sound_file_info& info() const noexcept { return info_; }
    double sample_rate() const noexcept { return info_.sample_rate; }
    int channels() const noexcept { return info_.channels; }
    std::uint64_t frames() const noexcept { return info_.frames; }
    int format() const noexcept { return info_.format; }
    const std::filesystem::path& path() const noexcept { return path_; }

    /// libsndfile's names for the format, e.g. "WAV (Microsoft), Signed 16 bit PCM".
    std::string format_name() const
    {
        std::string out;
        for (int part : {info_.format & SF_FORMAT_TYPEMASK, info_.format & SF_FORMAT_SUBMASK}) {
            SF_FORMAT_INFO fi{};
            fi.format = part;
            if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 &&
                fi.name != nullptr)
                out += (out.empty() ? "" : ", ") + std::string(fi.name);
        }
        return out;
    }

    /// Reads up to `samples.size() / channels()` frames; returns how many
    /// were read, fewer only at the end of the file (or on an error).
    template <class T, std::size_t Extent>
    requires file_sample_type<T> std::size_t read_frames(std::span<T, Extent> samples)
    {
        std::error_code ec;
        const std::size_t n = read_frames(samples, ec);
        detail::throw_file_error(ec, "cannot read", path_);
        return n;
    }
    template <class T, std::size_t Extent>
    requires file_sample_type<T> std::size_t read_frames(std::span<T, Extent> samples,
                                                         std::error_code& ec)
    {
        const std::size_t frames = check(samples.size(), ec);
        if (ec || frames == 0) return 0;
        const auto want = static_cast<sf_count_t>(frames);
        sf_count_t got = 0;
        if constexpr (std::is_same_v<T, float>)
            got = sf_readf_float(file_, samples.data(), want);
        else if constexpr (std::is_same_v<T, double>)
            got = sf_readf_double(file_, samples.data(), want);
        else if constexpr (std::is_same_v<T, std::int16_t>)
            got = sf_readf_short(file_, samples.data(), want);
        else
            got = sf_readf_int(file_, samples.data(), want);
        if (got < want) ec = detail::sndfile_error(sf_error(file_));
        return got > 0 ? static_cast<std::size_t>(got) : 0;
    }

    /// Writes all `samples.size() / channels()` frames; returns how many
    /// were written (fewer only with an error, such as a full disk).
    template <class T, std::size_t Extent>
    requires file_sample_type<std::remove_const_t<T>> std::size_t
    write_frames(std::span<T, Extent> samples)
    {
        std::error_code ec;
        const std::size_t n = write_frames(samples, ec);
        detail::throw_file_error(ec, "cannot write", path_);
        return n;
    }
    template <class T, std::size_t Extent>
    requires file_sample_type<std::remove_const_t<T>> std::size_t
    write_frames(std::span<T, Extent> samples, std::error_code& ec)
    {
        using U = std::remove_const_t<T>;
        const std::size_t frames = check(samples.size(), ec);
        if (ec || frames == 0) return 0;
        const auto want = static_cast<sf_count_t>(frames);
        sf_count_t put = 0;
        errno = 0;
        if constexpr (std::is_same_v<U, float>)
            put = sf_writef_float(file_, samples.data(), want);
        else if constexpr (std::is_same_v<U, double>)
            put = sf_writef_double(file_, samples.data(), want);
        else if constexpr (std::is_same_v<U, std::int16_t>)
            put = sf_writef_short(file_, samples.data(), want);
        else
            put = sf_writef_int(file_, samples.data(), want);
        if (put > 0) info_.frames += static_cast<std::uint64_t>(put);
        if (put < want) {
            const int e = sf_error(file_);
            ec = detail::sndfile_error(e != 0 ? e : SF_ERR_SYSTEM, errno);
        }
        return put > 0 ? static_cast<std::size_t>(put) : 0;
    }

    /// Moves the read position to frame `frame` (reading); returns it.
    std::uint64_t seek(std::uint64_t frame)
    {
        std::error_code ec;
        const std::uint64_t at = seek(frame, ec);
        detail::throw_file_error(ec, "cannot seek in", path_);
        return at;
    }
    std::uint64_t seek(std::uint64_t frame, std::error_code& ec)
    {
        ec.clear();
        if (file_ == nullptr) {
            ec = make_error_code(errc::not_open);
            return 0;
        }
        const sf_count_t at = sf_seek(file_, static_cast<sf_count_t>(frame), SEEK_SET);
        if (at < 0) {
            ec = detail::sndfile_error(sf_error(file_) != 0 ? sf_error(file_)
                                                            : SF_ERR_MALFORMED_FILE);
            return 0;
        }
        return static_cast<std::uint64_t>(at);
    }

    /// Closes the file, finishing a written file's header. Closing a closed
    /// file does nothing.
    void close()
    {
        std::error_code ec;
        close(ec);
        detail::throw_file_error(ec, "cannot close", path_);
    }
    void close(std::error_code& ec) noexcept
    {
        ec.clear();
        if (file_ == nullptr) return;
        errno = 0;
        const int e = sf_close(std::exchange(file_, nullptr));
        ec = detail::sndfile_error(e, errno);
    }

    /// The libsndfile handle, for what this class does not wrap (`sf_command`).
    SNDFILE* native_handle() const noexcept { return file_; }

private:
    sound_file(SNDFILE* f, const SF_INFO& info, std::filesystem::path path)
        : file_(f), path_(std::move(path))
    {
        info_.sample_rate = info.samplerate;
        info_.channels = info.channels;
        info_.frames = info.frames > 0 ? static_cast<std::uint64_t>(info.frames) : 0;
        info_.format = info.format;
    }

    std::size_t check(std::size_t samples, std::error_code& ec) const noexcept
    {
        ec.clear();
        if (file_ == nullptr) {
            ec = make_error_code(errc::not_open);
            return 0;
        }
        const auto ch = static_cast<std::size_t>(info_.channels);
        if (samples % ch != 0) {
            ec = make_error_code(errc::not_whole_frames);
            return 0;
        }
        return samples / ch;
    }

    SNDFILE* file_ = nullptr;
    sound_file_info info_;
    std::filesystem::path path_;
};

} // namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE

#endif
