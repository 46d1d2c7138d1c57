// coaudio/sndfile.hpp without a sound card: files written and read back, bad
// files and formats, and ten-minute files streamed through a stream whose
// callback a plain thread drives, faster than real time, with flat memory.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/sndfile.hpp>

#include "support/catch.hpp"
#include "support/scratch_dir.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#  define COAUDIO_TEST_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define COAUDIO_TEST_ASAN 1
#  endif
#endif

namespace fs = std::filesystem;
namespace cd = coaudio::detail;
using namespace std::chrono_literals;

namespace {

template <class T>
std::vector<T> random_samples(std::size_t n, std::uint32_t seed)
{
    std::mt19937 gen(seed);
    std::vector<T> v(n);
    if constexpr (std::is_floating_point_v<T>) {
        std::uniform_real_distribution<float> d(-1.0f, 1.0f);
        for (auto& x : v)
            x = d(gen);
    } else {
        std::uniform_int_distribution<std::int64_t> d(std::numeric_limits<T>::min(),
                                                      std::numeric_limits<T>::max());
        for (auto& x : v)
            x = static_cast<T>(d(gen));
    }
    return v;
}

// Writes `data` in uneven blocks, reads it back in other uneven blocks.
template <class T>
std::vector<T> round_trip(const fs::path& path, const std::vector<T>& data, int channels,
                          int format)
{
    {
        auto f = coaudio::sound_file::create(path, 48000, channels, format);
        const std::size_t ch = static_cast<std::size_t>(channels);
        std::size_t at = 0, step = 1000;
        while (at < data.size()) {
            const std::size_t n = std::min(step * ch, data.size() - at);
            REQUIRE(f.write_frames(std::span<const T>(data).subspan(at, n)) == n / ch);
            at += n;
            step = step * 3 % 4093 + 7;
        }
        CHECK(f.frames() == data.size() / ch);
        f.close();
    }
    auto f = coaudio::sound_file::open(path);
    CHECK(f.channels() == channels);
    CHECK(f.sample_rate() == 48000);
    CHECK(f.frames() == data.size() / static_cast<std::size_t>(channels));
    std::vector<T> back(data.size());
    std::size_t at = 0;
    std::size_t step = 777;
    for (;;) {
        const std::size_t room =
            std::min(step * static_cast<std::size_t>(channels), back.size() - at);
        const std::size_t n = f.read_frames(std::span<T>(back).subspan(at, room));
        at += n * static_cast<std::size_t>(channels);
        if (n == 0) break;
        step = step * 5 % 3001 + 11;
    }
    CHECK(at == data.size());
    return back;
}

// Peak resident memory growth from construction to `finish()`, sampled every
// 2 ms from /proc/self/statm through one descriptor: the probe itself
// allocates nothing while it samples (under ASan every freed block would stay
// resident in the quarantine and count).
class rss_probe {
public:
    rss_probe()
        : fd_(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)), baseline_(rss_kb()),
          peak_(baseline_)
    {
        sampler_ = std::thread([this] {
            while (!stop_.load()) {
                const auto now = rss_kb();
                if (now > peak_.load()) peak_.store(now);
                std::this_thread::sleep_for(2ms);
            }
        });
    }
    rss_probe(const rss_probe&) = delete;
    rss_probe& operator=(const rss_probe&) = delete;
    ~rss_probe()
    {
        finish();
        if (fd_ >= 0) ::close(fd_);
    }

    void finish()
    {
        if (!sampler_.joinable()) return;
        stop_.store(true);
        sampler_.join();
        const auto now = rss_kb();
        if (now > peak_.load()) peak_.store(now);
    }
    std::int64_t baseline_kb() const { return baseline_; }
    std::int64_t growth_kb() const { return peak_.load() - baseline_; }

private:
    // Resident kilobytes: the second field of statm, in pages.
    std::int64_t rss_kb() const
    {
        char buf[128];
        const ssize_t n = fd_ >= 0 ? ::pread(fd_, buf, sizeof buf - 1, 0) : -1;
        if (n <= 0) return -1;
        buf[n] = '\0';
        unsigned long long size = 0, resident = 0;
        if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return -1;
        return static_cast<std::int64_t>(resident) * (::sysconf(_SC_PAGESIZE) / 1024);
    }

    int fd_;
    std::int64_t baseline_;
    std::atomic<std::int64_t> peak_;
    std::atomic<bool> stop_{false};
    std::thread sampler_;
};

// The long files' content: a hash of the frame index, so that any lost,
// repeated or shifted frame shows.
std::int16_t pattern(std::uint64_t frame)
{
    return static_cast<std::int16_t>(static_cast<std::uint16_t>((frame * 2654435761u) >> 13));
}

constexpr double rate = 48000;
constexpr std::uint64_t ten_minutes = static_cast<std::uint64_t>(600 * rate);
constexpr std::size_t block = 1024;
// A few blocks of buffers, libsndfile's own and the allocator's slack: a file
// held in memory would be 57 MB.
#if defined(COAUDIO_TEST_ASAN)
constexpr std::int64_t flat_kb = 8 * 1024; // ASan's shadow memory and quarantine
#else
constexpr std::int64_t flat_kb = 4 * 1024;
#endif

cd::stream_params params()
{
    cd::stream_params p;
    p.channels = 1;
    p.format = coaudio::sample_format::int16;
    p.sample_rate = rate;
    p.frames_per_block = block;
    return p;
}

} // namespace

TEST_CASE("a file written and read back holds the same samples")
{
    test::scratch_dir dir("coaudio-sndfile");
    SECTION("float32 WAV, stereo")
    {
        const auto data = random_samples<float>(2 * 48000, 1);
        CHECK(round_trip(dir / "f.wav", data, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT) == data);
    }
    SECTION("16-bit WAV, the default for .wav")
    {
        const auto data = random_samples<std::int16_t>(48000, 2);
        CHECK(round_trip(dir / "s.wav", data, 1, 0) == data);
        CHECK(coaudio::sound_file::open(dir / "s.wav").format() ==
              (SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    }
    SECTION("32-bit PCM AIFF, three channels")
    {
        const auto data = random_samples<std::int32_t>(3 * 10000, 3);
        CHECK(round_trip(dir / "i.aiff", data, 3, SF_FORMAT_AIFF | SF_FORMAT_PCM_32) == data);
    }
    SECTION("FLAC, lossless at 16 bits, chosen by the extension")
    {
        const auto data = random_samples<std::int16_t>(2 * 30000, 4);
        CHECK(round_trip(dir / "l.flac", data, 2, 0) == data);
        auto f = coaudio::sound_file::open(dir / "l.flac");
        CHECK(f.format() == (SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
        CHECK(f.format_name().find("FLAC") != std::string::npos);
    }
    SECTION("64-bit floats convert to and from a float file exactly")
    {
        auto floats = random_samples<float>(4800, 5);
        std::vector<double> data(floats.begin(), floats.end());
        CHECK(round_trip(dir / "d.caf", data, 1, SF_FORMAT_CAF | SF_FORMAT_FLOAT) == data);
    }
}

TEST_CASE("formats follow the file name, and seek moves the read position")
{
    test::scratch_dir dir("coaudio-sndfile");
    std::error_code ec;
    CHECK(coaudio::file_format_for("a.wav", 2, 48000, ec) == (SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    CHECK(coaudio::file_format_for("a.WAV", 2, 48000, ec) == (SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    CHECK(coaudio::file_format_for("a.aif", 2, 48000, ec) == (SF_FORMAT_AIFF | SF_FORMAT_PCM_16));
    CHECK(coaudio::file_format_for("a.ogg", 2, 48000, ec) == (SF_FORMAT_OGG | SF_FORMAT_VORBIS));
    CHECK(coaudio::file_format_for("a.flac", 1, 48000, ec) == (SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
    CHECK(!ec);
    CHECK(coaudio::file_format_for("a.xyz", 1, 48000, ec) == 0);
    CHECK(ec == std::errc::not_supported);
    CHECK(coaudio::file_format_for("noextension", 1, 48000, ec) == 0);
    CHECK(ec == std::errc::not_supported);

    const auto data = random_samples<std::int16_t>(10000, 6);
    round_trip(dir / "seek.wav", data, 1, 0);
    auto f = coaudio::sound_file::open(dir / "seek.wav");
    CHECK(f.seek(9000) == 9000);
    std::vector<std::int16_t> tail(2000);
    CHECK(f.read_frames(std::span(tail)) == 1000);
    CHECK(std::equal(tail.begin(), tail.begin() + 1000, data.begin() + 9000));
}

TEST_CASE("bad files and formats give clear errors")
{
    test::scratch_dir dir("coaudio-sndfile");
    std::error_code ec;

    SECTION("a missing file")
    {
        auto f = coaudio::sound_file::open(dir / "missing.wav", ec);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK_FALSE(f.is_open());
        try {
            coaudio::sound_file::open(dir / "missing.wav");
            FAIL("no exception");
        } catch (const std::system_error& e) {
            INFO(e.what());
            CHECK(e.code() == std::errc::no_such_file_or_directory);
            CHECK(std::string(e.what()).find("missing.wav") != std::string::npos);
        }
    }
    SECTION("a directory")
    {
        coaudio::sound_file::open(dir.path, ec);
        CHECK(ec == std::errc::is_a_directory);
    }
    SECTION("a file that is not sound")
    {
        std::ofstream(dir / "notes.wav") << "these are not samples\n";
        coaudio::sound_file::open(dir / "notes.wav", ec);
        INFO(ec.message());
        CHECK(ec.category() == coaudio::sndfile_category());
        CHECK(ec.value() == SF_ERR_UNRECOGNISED_FORMAT);
        CHECK(ec == std::errc::not_supported);
        try {
            coaudio::sound_file::open(dir / "notes.wav");
            FAIL("no exception");
        } catch (const std::system_error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("notes.wav") != std::string::npos);
        }
    }
    SECTION("formats libsndfile cannot write")
    {
        coaudio::sound_file::create(dir / "a.xyz", 48000, 1, 0, ec);
        CHECK(ec == std::errc::not_supported);
        CHECK_FALSE(fs::exists(dir / "a.xyz"));
        coaudio::sound_file::create(dir / "b.wav", 48000, 1, SF_FORMAT_WAV | SF_FORMAT_VORBIS, ec);
        CHECK(ec.value() == SF_ERR_UNSUPPORTED_ENCODING);
        CHECK(ec == std::errc::not_supported);
        coaudio::sound_file::create(dir / "c.wav", 48000, 0, 0, ec);
        CHECK(ec == coaudio::errc::invalid_channels);
        coaudio::sound_file::create(dir / "d.wav", 0, 1, 0, ec);
        CHECK(ec == coaudio::errc::invalid_sample_rate);
    }
    SECTION("a directory that does not exist, a closed file, a partial frame")
    {
        coaudio::sound_file::create(dir / "no" / "such" / "dir.wav", 48000, 1, 0, ec);
        INFO(ec.message());
        CHECK(ec == std::errc::no_such_file_or_directory);
        coaudio::sound_file closed;
        std::vector<float> buf(8);
        CHECK(closed.read_frames(std::span(buf), ec) == 0);
        CHECK(ec == coaudio::errc::not_open);
        auto f = coaudio::sound_file::create(dir / "stereo.wav", 48000, 2, 0);
        CHECK(f.write_frames(std::span(buf).first(3), ec) == 0);
        CHECK(ec == coaudio::errc::not_whole_frames);
    }
}

TEST_CASE("a ten-minute file streams into a stream a block at a time, with flat memory")
{
    test::scratch_dir dir("coaudio-sndfile");
    const fs::path path = dir / "ten-minutes.wav";
    {
        auto f = coaudio::sound_file::create(path, rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
        std::vector<std::int16_t> buf(48000);
        for (std::uint64_t at = 0; at < ten_minutes; at += buf.size()) {
            for (std::size_t i = 0; i < buf.size(); ++i)
                buf[i] = pattern(at + i);
            f.write_frames(std::span<const std::int16_t>(buf));
        }
    }
    REQUIRE(fs::file_size(path) > 57'000'000);

    asio::io_context io;
    coaudio::output_stream out(io);
    auto core = std::make_unique<cd::stream_core>(cd::direction::output, params(), 8192);
    cd::stream_core* driver = core.get();
    coaudio::detail::core_access::open(out, std::move(core));
    auto file = coaudio::sound_file::open(path);

    // The driver: plays the callback as fast as the ring allows, never
    // starving it (that would insert silence), and checks every frame.
    std::atomic<bool> stop{false};
    std::uint64_t played = 0, wrong = 0, first_wrong = ~0ull;
    std::thread thread([&] {
        std::vector<std::int16_t> buf(block);
        auto& ring = driver->output().ring;
        while (!stop.load() && driver->state() != cd::run_state::running)
            std::this_thread::yield();
        while (!stop.load()) {
            const auto state = driver->state();
            if (ring.read_available() < block && state == cd::run_state::running) {
                std::this_thread::sleep_for(20us); // the io thread needs the core more
                continue;
            }
            const int r = driver->process(nullptr, buf.data(), block, 0);
            for (std::size_t i = 0; i < block; ++i, ++played) {
                const std::int16_t want = played < ten_minutes ? pattern(played) : 0;
                if (buf[i] != want && wrong++ == 0) first_wrong = played;
            }
            if (r == paComplete) {
                driver->finished();
                break;
            }
        }
    });

    const auto t0 = std::chrono::steady_clock::now();
    rss_probe rss;
    std::error_code ec;
    std::uint64_t frames = 0;
    asio::co_spawn(io, coaudio::async_play_file(out, file, coaudio::as_tuple(asio::use_awaitable)),
                   [&](std::exception_ptr e, std::tuple<std::error_code, std::uint64_t> r) {
                       if (e) std::rethrow_exception(e);
                       std::tie(ec, frames) = r;
                   });
    io.run_for(240s);
    rss.finish();
    stop.store(true);
    thread.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    INFO("10 minutes streamed in " << seconds << " s; resident memory " << rss.baseline_kb()
                                   << " kB, peak growth " << rss.growth_kb() << " kB; " << wrong
                                   << " wrong frames (first at " << first_wrong << ")");
    CHECK(!ec);
    CHECK(frames == ten_minutes);
    CHECK(played >= ten_minutes);
    CHECK(wrong == 0);
    CHECK(out.counters().underflows == 0);
    CHECK(rss.growth_kb() < flat_kb);
}

TEST_CASE("ten minutes from a stream go to a file a block at a time, with flat memory")
{
    test::scratch_dir dir("coaudio-sndfile");
    const fs::path path = dir / "recorded.wav";

    asio::io_context io;
    coaudio::input_stream in(io);
    auto core = std::make_unique<cd::stream_core>(cd::direction::input, params(), 8192);
    cd::stream_core* driver = core.get();
    coaudio::detail::core_access::open(in, std::move(core));
    auto file = coaudio::sound_file::create(path, rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);

    // The driver: captures as fast as the ring has room, never overflowing it.
    std::atomic<bool> stop{false};
    std::thread thread([&] {
        std::vector<std::int16_t> buf(block);
        auto& ring = driver->input().ring;
        while (!stop.load() && driver->state() != cd::run_state::running)
            std::this_thread::yield();
        for (std::uint64_t made = 0; made < ten_minutes && !stop.load();) {
            if (ring.readable_from_producer() + block > ring.capacity()) {
                std::this_thread::sleep_for(20us);
                continue;
            }
            for (std::size_t i = 0; i < block; ++i)
                buf[i] = pattern(made + i);
            driver->process(buf.data(), nullptr, block, 0);
            made += block;
        }
    });

    const auto t0 = std::chrono::steady_clock::now();
    rss_probe rss;
    std::error_code ec;
    std::uint64_t frames = 0;
    asio::co_spawn(
        io,
        coaudio::async_record_file(in, file, ten_minutes, coaudio::as_tuple(asio::use_awaitable)),
        [&](std::exception_ptr e, std::tuple<std::error_code, std::uint64_t> r) {
            if (e) std::rethrow_exception(e);
            std::tie(ec, frames) = r;
        });
    io.run_for(240s);
    rss.finish();
    stop.store(true);
    thread.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    file.close();

    INFO("10 minutes recorded in " << seconds << " s; resident memory " << rss.baseline_kb()
                                   << " kB, peak growth " << rss.growth_kb() << " kB");
    CHECK(!ec);
    CHECK(frames == ten_minutes);
    CHECK(in.counters().frames_dropped == 0);
    CHECK_FALSE(in.is_active()); // started by the recording, so stopped by it
    CHECK(rss.growth_kb() < flat_kb);

    auto back = coaudio::sound_file::open(path);
    REQUIRE(back.frames() == ten_minutes);
    std::vector<std::int16_t> buf(48000);
    std::uint64_t at = 0, wrong = 0;
    while (const std::size_t n = back.read_frames(std::span(buf))) {
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] != pattern(at + i)) ++wrong;
        at += n;
    }
    CHECK(at == ten_minutes);
    CHECK(wrong == 0);
}
