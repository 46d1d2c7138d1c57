// coaudio: sound files through libsndfile, and streaming them to and from
// streams in blocks, without loading a whole file.
//
// Optional: needs libsndfile (Debian: libsndfile1-dev). With CMake, link
// coaudio::sndfile, which exists when libsndfile was found; it defines
// COAUDIO_HAS_SNDFILE=1. coaudio/coaudio.hpp does not include this header.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_SNDFILE_HPP
#define COAUDIO_SNDFILE_HPP

#if !__has_include(<sndfile.h>)
#  error                                                                                           \
      "coaudio/sndfile.hpp needs libsndfile (Debian: libsndfile1-dev); with CMake, link coaudio::sndfile"
#endif

#include <sndfile.h>

#include <coaudio/config.hpp>
#include <coaudio/detail/oneshot.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/stream_config.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

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

// ---- Streaming files ------------------------------------------------------------------------

/// How `async_play_file` opens its stream.
struct play_file_options {
    /// Output device; empty: the host's default output device.
    device_selector device{};
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
};

/// How `async_record_file` opens its stream and its file.
struct record_file_options {
    /// Input device; empty: the host's default input device.
    device_selector device{};
    /// `SF_FORMAT_*` major | encoding; 0: from the file name (see `file_format_for`).
    int format = 0;
    unsigned long frames_per_block = 0;
    latency_hint latency = latency_hint::high();
    /// As `record_options::overflow_is_error`.
    bool overflow_is_error = false;
};

namespace detail {

/// Plays a file a block at a time: one block of buffer, whatever the file's length.
template <class T>
class file_source {
public:
    explicit file_source(sound_file& f)
        : file_(f), channels_(static_cast<std::size_t>(f.channels())),
          buffer_(chunk_frames * channels_)
    {
    }

    std::span<const T> next(std::size_t max_frames, std::error_code& ec)
    {
        const std::size_t want = std::min(max_frames, chunk_frames);
        const std::size_t got =
            file_.read_frames(std::span<T>(buffer_).first(want * channels_), ec);
        return std::span<const T>(buffer_).first(got * channels_);
    }

private:
    sound_file& file_;
    std::size_t channels_;
    std::vector<T> buffer_;
};

/// Records into a file a block at a time; lost input becomes silence.
template <class T>
class file_sink {
public:
    file_sink(sound_file& f, std::uint64_t total)
        : file_(f), channels_(static_cast<std::size_t>(f.channels())), total_(total),
          buffer_(chunk_frames * channels_)
    {
    }

    std::uint64_t frames() const noexcept { return written_; }

    std::span<T> buffer(std::size_t max_frames) noexcept
    {
        return std::span<T>(buffer_).first(std::min(max_frames, chunk_frames) * channels_);
    }

    std::error_code commit(std::size_t frames, std::uint64_t lost_before)
    {
        std::error_code ec;
        std::uint64_t gap = std::min(lost_before, total_ - written_);
        if (gap > 0 && silence_.empty())
            silence_.assign(chunk_frames * channels_, silence_sample<T>());
        while (gap > 0 && !ec) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(gap, chunk_frames));
            const std::size_t put =
                file_.write_frames(std::span<const T>(silence_).first(n * channels_), ec);
            written_ += put;
            gap -= put;
        }
        const auto keep =
            static_cast<std::size_t>(std::min<std::uint64_t>(frames, total_ - written_));
        if (!ec && keep > 0)
            written_ += file_.write_frames(std::span<const T>(buffer_).first(keep * channels_), ec);
        return ec;
    }

private:
    sound_file& file_;
    std::size_t channels_;
    std::uint64_t total_;
    std::uint64_t written_ = 0;
    std::vector<T> buffer_;
    std::vector<T> silence_;
};

using file_result = std::tuple<std::error_code, std::uint64_t>;

/// A stream and a file agree on channels and rate; libsndfile converts the
/// samples. With libsoxr a float32 stream may run at another rate than the
/// file's: the frames are converted on the way.
inline std::error_code check_file_matches(const stream_params& p, const sound_file& f) noexcept
{
    if (!f.is_open()) return make_error_code(errc::not_open);
    if (f.channels() != p.channels) return make_error_code(errc::invalid_channels);
    if (std::abs(f.sample_rate() - p.sample_rate) > 0.5 &&
        !(converts_rates && p.format == sample_format::float32))
        return make_error_code(errc::invalid_sample_rate);
    return {};
}

template <class T, class Stream>
asio::awaitable<file_result> play_file_as(Stream& s, sound_file& f)
{
    file_source<T> source(f);
    if constexpr (std::is_same_v<T, float>)
        co_return co_await play_at_rate(s, source, f.sample_rate(), f.channels());
    else
        co_return co_await play_from<T>(s, source, true);
}

template <class Stream>
asio::awaitable<file_result> play_file_on(Stream& s, sound_file& f)
{
    if (!s.is_open()) co_return file_result{make_error_code(errc::not_open), 0};
    const stream_params p = s.output_params();
    if (auto ec = check_file_matches(p, f)) co_return file_result{ec, 0};
    switch (p.format) {
    case sample_format::float32: co_return co_await play_file_as<float>(s, f);
    case sample_format::int32: co_return co_await play_file_as<std::int32_t>(s, f);
    case sample_format::int16: co_return co_await play_file_as<std::int16_t>(s, f);
    default: co_return file_result{make_error_code(errc::format_mismatch), 0};
    }
}

template <class T, class Stream>
asio::awaitable<file_result> record_file_as(Stream& s, sound_file& f, std::uint64_t frames)
{
    file_sink<T> sink(f, frames);
    const bool overflow_is_error = s.input_params().overflow_is_error;
    if constexpr (std::is_same_v<T, float>)
        co_return co_await record_at_rate(s, sink, frames, f.sample_rate(), f.channels(),
                                          overflow_is_error);
    else
        co_return co_await record_into<T>(s, sink, frames, overflow_is_error, true);
}

template <class Stream>
asio::awaitable<file_result> record_file_on(Stream& s, sound_file& f, std::uint64_t frames)
{
    if (!s.is_open()) co_return file_result{make_error_code(errc::not_open), 0};
    const stream_params p = s.input_params();
    if (auto ec = check_file_matches(p, f)) co_return file_result{ec, 0};
    switch (p.format) {
    case sample_format::float32: co_return co_await record_file_as<float>(s, f, frames);
    case sample_format::int32: co_return co_await record_file_as<std::int32_t>(s, f, frames);
    case sample_format::int16: co_return co_await record_file_as<std::int16_t>(s, f, frames);
    default: co_return file_result{make_error_code(errc::format_mismatch), 0};
    }
}

inline asio::awaitable<std::tuple<std::error_code>> play_file_path(std::filesystem::path path,
                                                                   play_file_options o)
{
    std::error_code ec;
    sound_file f = sound_file::open(path, ec);
    if (ec) co_return std::tuple{ec};
    basic_output_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    open_converting(
        s, oneshot_config(o.device, f.channels(), f.sample_rate(), o.frames_per_block, o.latency),
        ec);
    if (ec) co_return std::tuple{ec};
    auto [pec, n] = co_await play_file_on(s, f);
    (void)n;
    co_return std::tuple{pec};
}

inline asio::awaitable<file_result> record_file_path(std::filesystem::path path,
                                                     std::uint64_t frames, double rate,
                                                     int channels, record_file_options o)
{
    std::error_code ec;
    // The stream first: a device that refuses the settings leaves no file behind.
    basic_input_stream<asio::any_io_executor> s(co_await asio::this_coro::executor);
    stream_config cfg = oneshot_config(o.device, channels, rate, o.frames_per_block, o.latency);
    cfg.overflow_is_error = o.overflow_is_error;
    open_converting(s, cfg, ec);
    if (ec) co_return file_result{ec, 0};
    // The file at the rate asked for; the device's own where none was.
    sound_file f =
        sound_file::create(path, rate > 0 ? rate : s.sample_rate(), channels, o.format, ec);
    if (ec) co_return file_result{ec, 0};
    auto [rec, n] = co_await record_file_on(s, f, frames);
    std::error_code close_ec;
    f.close(close_ec);
    co_return file_result{rec ? rec : close_ec, n};
}

} // namespace detail

/// Plays a sound file on an output device, streaming it a block at a time,
/// and completes when its last frame has been heard.
///
/// Opens a float32 stream at the file's rate with the file's channel count;
/// libsndfile converts the samples. A device that refuses the rate fails the
/// operation, unless coaudio is built with libsoxr (coaudio::soxr): then the
/// stream runs at the device's default rate and the frames are converted on
/// the io thread (coaudio/resample.hpp). A device that refuses the channels
/// fails it.
///
/// Signature: `void(coaudio::error_code)`.
/// Errors: those of `sound_file::open` (`std::errc::no_such_file_or_directory`,
/// `SF_ERR_UNRECOGNISED_FORMAT`, ...), those of opening a stream
/// (`errc::invalid_sample_rate` and `errc::invalid_channels` for a file the
/// device refuses, `errc::device_not_found`, ...), `errc::device_lost`,
/// read errors, `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; the sound stops at once.
template <detail::io_executor Executor, class Token = default_token_t<Executor>>
auto async_play_file(const Executor& ex, std::filesystem::path path, play_file_options options = {},
                     Token&& token = Token{})
{
    return detail::launch(ex, std::forward<Token>(token), [path = std::move(path), options] {
        return detail::play_file_path(path, options);
    });
}

template <detail::execution_context_ref ExecutionContext,
          class Token = default_token_t<typename ExecutionContext::executor_type>>
auto async_play_file(ExecutionContext& ctx, std::filesystem::path path,
                     play_file_options options = {}, Token&& token = Token{})
{
    return async_play_file(ctx.get_executor(), std::move(path), options,
                           std::forward<Token>(token));
}

/// Records `frames` frames from an input device into a new sound file,
/// streaming a block at a time; the file's format comes from
/// `options.format` or the file name. The file is at `rate` (0: the device's
/// default rate); a device that refuses `rate` fails the operation, unless
/// coaudio is built with libsoxr: then the device runs at its default rate
/// and the frames are converted on the io thread. Lost input is written as silence, so
/// the file keeps time. The file is complete (header finished) when the
/// operation completes, also after a cancellation or an error.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_written)`.
/// Errors: those of opening a stream, those of `sound_file::create`, write
/// errors, `errc::device_lost`, `errc::input_overflow` (with
/// `options.overflow_is_error`), `asio::error::operation_aborted`.
/// Cancellation: terminal and partial; the file keeps what was recorded.
template <detail::io_executor Executor, class Token = default_token_t<Executor>>
auto async_record_file(const Executor& ex, std::filesystem::path path, std::uint64_t frames,
                       double rate, int channels, record_file_options options = {},
                       Token&& token = Token{})
{
    return detail::launch(
        ex, std::forward<Token>(token), [path = std::move(path), frames, rate, channels, options] {
            return detail::record_file_path(path, frames, rate, channels, options);
        });
}

template <detail::execution_context_ref ExecutionContext,
          class Token = default_token_t<typename ExecutionContext::executor_type>>
auto async_record_file(ExecutionContext& ctx, std::filesystem::path path, std::uint64_t frames,
                       double rate, int channels, record_file_options options = {},
                       Token&& token = Token{})
{
    return async_record_file(ctx.get_executor(), std::move(path), frames, rate, channels, options,
                             std::forward<Token>(token));
}

/// Streams `file` from its read position to its end into `stream`, in the
/// stream's format (float32, int32 or int16), and completes when the last
/// frame has been heard. The file's channels must be the stream's
/// (`errc::invalid_channels`), and so must its rate
/// (`errc::invalid_sample_rate`), except on a float32 stream with libsoxr,
/// where the frames are converted to the stream's rate; `frames_played`
/// then counts the file's frames. A stream that is
/// not running is pre-filled and started; at the end it has drained. Both
/// must outlive the operation.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_played)`.
/// Cancellation: terminal and partial; the stream is aborted.
template <class Executor, class Token = default_token_t<Executor>>
auto async_play_file(basic_output_stream<Executor>& stream, sound_file& file,
                     Token&& token = Token{})
{
    return detail::launch(stream.get_executor(), std::forward<Token>(token),
                          [&stream, &file] { return detail::play_file_on(stream, file); });
}

/// Records `frames` frames from `stream` into `file`, in the stream's format
/// (float32, int32 or int16), a block at a time. The file's channels and rate
/// must be the stream's, except the rate on a float32 stream with libsoxr:
/// the frames are converted to the file's rate, and `frames` counts the
/// file's frames. A stream that is not running is started here and
/// stopped at the end. Lost input is written as silence. The file stays open.
///
/// Signature: `void(coaudio::error_code, std::uint64_t frames_written)`.
/// Cancellation: terminal and partial; what was recorded is in the file.
template <class Executor, class Token = default_token_t<Executor>>
auto async_record_file(basic_input_stream<Executor>& stream, sound_file& file, std::uint64_t frames,
                       Token&& token = Token{})
{
    return detail::launch(
        stream.get_executor(), std::forward<Token>(token),
        [&stream, &file, frames] { return detail::record_file_on(stream, file, frames); });
}

} // namespace coaudio

#endif
