// A terminal level meter: one bar per input channel with RMS, peak, a
// decaying peak hold and a clip marker, redrawn about 30 times a second.
//
// Capture, the redraw timer, signals and the keyboard are four coroutines on
// one io_context, run by this one thread; coaudio adds no thread of its own
// (PortAudio's audio thread only fills the ring and rings the doorbell).
//
//   meter [--device NAME|INDEX] [--channels N] [--rate HZ] [--block FRAMES]
//         [--record FILE]
//   meter --list        meter --help
//
// With --record the meter and a recorder share one capture: a capture hub
// drains the stream, and each reads it at its own pace through a reader of
// its own (needs libsndfile). The file is written on the io thread, so a
// write that blocks delays the bars too; the recorder's two seconds of
// buffer keep the recording whole meanwhile.
//
// `q` quits, as do Ctrl-C, SIGTERM and SIGHUP; the terminal is restored
// however the meter ends. When standard output is not a terminal the meter
// prints one plain line per interval instead, for scripts and logs.
//
// On Windows the bars need a console that takes ANSI sequences (Windows 10
// and later); keys come as the console's input records, which Asio waits for
// on the console's input handle; and a closed pipe is noticed at the next write.
#include <coaudio/coaudio.hpp>
#if defined(COAUDIO_HAS_SNDFILE)
#  include <coaudio/sndfile.hpp>
#endif

#include <asio.hpp>

#if defined(_WIN32)
#  include <io.h>
#  include <windows.h> // after Asio, which defines WIN32_LEAN_AND_MEAN and NOMINMAX
#else
#  include <fcntl.h>
#  include <sys/ioctl.h>
#  include <sys/stat.h>
#  include <termios.h>
#  include <unistd.h>
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_line.hpp"
#include "common/devices.hpp"
#include "common/stdio.hpp"

namespace {

using examples::exit_failed;
using examples::exit_no_device;
using examples::exit_ok;

using clock_type = std::chrono::steady_clock;
constexpr auto default_interval = std::chrono::nanoseconds(std::chrono::seconds(1)) / 30;
constexpr auto default_plain_interval = std::chrono::seconds(1);
// The left end of the bars, and silence, in dBFS.
constexpr double floor_db = -60.0;
constexpr double minus_inf = -std::numeric_limits<double>::infinity();

// ---- Command line ------------------------------------------------------------

struct options {
    std::optional<std::string> device;
    std::optional<int> channels;
    double rate = 0;         // 0: the device's default
    unsigned long block = 0; // 0: the host chooses
    std::optional<double> interval_ms;
    double seconds = 0; // 0: until asked to quit
    bool list = false;
    std::optional<std::string> record; // a sound file to record into as well
};

constexpr const char* usage_text = R"(usage: meter [options]

Shows the input level of a capture device: one bar per channel with RMS and
peak in dBFS, a peak hold that decays, and CLIP at or above -0.1 dBFS.
Keys: q quits, r resets the peak holds. Ctrl-C, SIGTERM and SIGHUP quit too.

  --list              list the audio devices and exit
  --device NAME|INDEX capture device: an index from --list, or part of a
                      name (case-insensitive); default: the host's default input
  --channels N        channels to meter (default: the device's, at most 2)
  --rate HZ           sample rate (default: the device's default rate)
  --block FRAMES      frames per audio callback (default: the host chooses)
  --interval MS       redraw interval (default: 33 ms on a terminal, otherwise
                      1000 ms: one line per interval)
  --seconds S         quit after S seconds (default: run until asked to quit)
  --record FILE       record what is metered into FILE as well (.wav, .flac,
                      ...: whatever libsndfile writes; lost input is written
                      as silence, so the file keeps time)

When standard output is not a terminal, each interval prints one line:
  time=1.000 rms=-9.03,-9.03 peak=-6.02,-6.02 hold=-6.02,-6.02 clip=0,0 overflows=0 dropped=0
and when no audio has arrived for half a second (a stopped server), the
levels are not repeated:
  time=5.000 rms=-,- peak=-,- hold=-9.12,-9.12 clip=0,0 overflows=0 dropped=0 (no audio is arriving)
The meter stops quietly when nothing reads its output any more (`| head`).
)";

// ---- Devices -------------------------------------------------------------------

void print_devices(std::FILE* out)
{
    std::error_code ec;
    const auto all = coaudio::devices(ec);
    if (ec) {
        std::fprintf(out, "  (cannot list devices: %s)\n", ec.message().c_str());
        return;
    }
    if (all.empty()) {
        std::fprintf(out, "  (PortAudio finds no audio devices at all)\n");
        return;
    }
    const auto in = coaudio::default_input_device(ec);
    const auto out_dev = coaudio::default_output_device(ec);
    std::fprintf(out, "  index   in  out    rate  host API / name\n");
    for (const auto& d : all) {
        std::string marks;
        if (in && in->index == d.index) marks += "  (default input)";
        if (out_dev && out_dev->index == d.index) marks += "  (default output)";
        std::fprintf(out, "  %5d  %3d  %3d  %6.0f  %s / %s%s\n", d.index, d.max_input_channels,
                     d.max_output_channels, d.default_sample_rate, d.host_api_name.c_str(),
                     d.name.c_str(), marks.c_str());
    }
}

// The capture device `arg` names: an index when it is all digits, else the
// one input device coaudio::match_devices picks for it (an exact name, or
// else the only name that contains it, ignoring case). When there is none,
// `problem` says why.
std::optional<coaudio::device_info> find_input_device(const std::optional<std::string>& arg,
                                                      std::string& problem)
{
    std::error_code ec;
    if (!arg) {
        auto d = coaudio::default_input_device(ec);
        if (ec)
            problem = "cannot query the audio devices: " + ec.message();
        else if (!d) {
            const auto all = coaudio::devices(ec);
            const bool any = std::any_of(all.begin(), all.end(),
                                         [](auto& x) { return x.max_input_channels > 0; });
            problem = any ? "no default capture device: choose one with --device"
                          : "no capture device: PortAudio finds no audio input on this machine";
        }
        return d;
    }
    if (std::all_of(arg->begin(), arg->end(), [](unsigned char c) { return std::isdigit(c); })) {
        const long long index =
            std::strtoll(arg->c_str(), nullptr, 10); // saturates: no UB on overflow
        auto d = coaudio::device(index > 1'000'000 ? -1 : static_cast<int>(index), ec);
        if (ec)
            problem = "no device has the index " + *arg;
        else if (d.max_input_channels < 1)
            problem = "device " + *arg + " (" + d.name + ") has no input channels";
        else
            return d;
        return std::nullopt;
    }
    const auto all = coaudio::devices(ec);
    if (ec) {
        problem = "cannot query the audio devices: " + ec.message();
        return std::nullopt;
    }
    const auto matches = coaudio::match_devices(all, *arg, coaudio::device_kind::input);
    if (matches.size() == 1) return matches.front();
    if (matches.empty()) {
        problem = "no capture device's name contains \"" + *arg + "\"";
    } else {
        problem =
            "\"" + *arg + "\" matches " + std::to_string(matches.size()) + " capture devices:";
        for (const auto& d : matches)
            problem += "\n    " + std::to_string(d.index) + ": " + d.name;
        problem += "\n  pick one by its index";
    }
    return std::nullopt;
}

// ---- The terminal ----------------------------------------------------------------
//
// One process-wide record of what was changed, so that the guard's destructor,
// the exception path and std::terminate can all put the terminal back.

struct terminal_state {
#if defined(_WIN32)
    bool console_mode_saved = false;
    DWORD saved_console_mode = 0; // standard output's, before ANSI sequences were turned on
#else
    bool termios_saved = false;
    termios saved{};
    int saved_flags = -1; // stdin's file status flags: Asio makes the descriptor non-blocking
#endif
    bool cursor_hidden = false;
};
terminal_state g_terminal;

#if defined(_WIN32)
// A console that takes ANSI sequences, as Windows 10's does once asked. True
// when standard output is a console and now takes them; the mode it had is
// put back by restore_terminal().
bool console_takes_ansi() noexcept
{
    const HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode = 0;
    if (out == INVALID_HANDLE_VALUE || !::GetConsoleMode(out, &mode)) return false;
    if (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) return true;
    if (!::SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING)) return false;
    g_terminal.console_mode_saved = true;
    g_terminal.saved_console_mode = mode;
    return true;
}
#endif

void restore_terminal() noexcept
{
    if (g_terminal.cursor_hidden) {
        constexpr char show[] = "\x1b[0m\x1b[?25h";
#if defined(_WIN32)
        [[maybe_unused]] auto n = ::_write(1, show, sizeof show - 1);
#else
        [[maybe_unused]] auto n = ::write(STDOUT_FILENO, show, sizeof show - 1);
#endif
        g_terminal.cursor_hidden = false;
    }
#if defined(_WIN32)
    if (g_terminal.console_mode_saved) {
        ::SetConsoleMode(::GetStdHandle(STD_OUTPUT_HANDLE), g_terminal.saved_console_mode);
        g_terminal.console_mode_saved = false;
    }
#else
    if (g_terminal.termios_saved) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &g_terminal.saved);
        g_terminal.termios_saved = false;
    }
    if (g_terminal.saved_flags != -1) {
        ::fcntl(STDIN_FILENO, F_SETFL, g_terminal.saved_flags);
        g_terminal.saved_flags = -1;
    }
#endif
}

// Keys without Enter and without echo; Ctrl-C still raises SIGINT (ISIG
// stays on) but Ctrl-Z is disabled, so the meter cannot be suspended with
// the cursor hidden. Restored when the guard goes, whichever way it goes.
class terminal_guard {
public:
    terminal_guard(bool keys, bool hide_cursor)
    {
        std::set_terminate([] {
            restore_terminal();
            std::abort();
        });
#if defined(_WIN32)
        // The console's modes stay: input records come raw whatever its line
        // mode (which shapes only ReadConsole and ReadFile), and Ctrl-C stays
        // a signal.
        (void)keys;
#else
        if (keys && ::tcgetattr(STDIN_FILENO, &g_terminal.saved) == 0) {
            g_terminal.termios_saved = true;
            g_terminal.saved_flags = ::fcntl(STDIN_FILENO, F_GETFL);
            termios t = g_terminal.saved;
            t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
#  ifdef VSUSP
            t.c_cc[VSUSP] = _POSIX_VDISABLE;
#  endif
            ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
        }
#endif
        if (hide_cursor) {
            g_terminal.cursor_hidden = true;
            std::fputs("\x1b[?25l", stdout);
            std::fflush(stdout);
        }
    }
    ~terminal_guard()
    {
        std::fflush(stdout);
        restore_terminal();
    }
    terminal_guard(const terminal_guard&) = delete;
    terminal_guard& operator=(const terminal_guard&) = delete;
};

// True when we are the terminal's foreground job: only then may we change
// its modes or read keys (a background job would be stopped by SIGTTOU/SIGTTIN).
bool owns_terminal(int fd)
{
#if defined(_WIN32)
    return ::_isatty(fd) != 0; // a console has no background jobs
#else
    return ::isatty(fd) && ::tcgetpgrp(fd) == ::getpgrp();
#endif
}

struct terminal_size {
    int columns = 80;
    int rows = 24;
};

terminal_size query_size()
{
    terminal_size s;
#if defined(_WIN32)
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (::GetConsoleScreenBufferInfo(::GetStdHandle(STD_OUTPUT_HANDLE), &info)) {
        const int columns = info.srWindow.Right - info.srWindow.Left + 1;
        const int rows = info.srWindow.Bottom - info.srWindow.Top + 1;
        if (columns > 0) s.columns = columns;
        if (rows > 0) s.rows = rows;
    }
#else
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        s.columns = ws.ws_col;
        s.rows = ws.ws_row > 0 ? ws.ws_row : s.rows;
    }
#endif
    return s;
}

// ---- Formatting ----------------------------------------------------------------------

template <class... Args>
std::string format(const char* fmt, Args... args)
{
    const int n = std::snprintf(nullptr, 0, fmt, args...);
    if (n <= 0) return {};
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    std::snprintf(out.data(), out.size(), fmt, args...);
    out.pop_back();
    return out;
}

// A dBFS figure: "-inf" for silence.
std::string db_text(double db, int decimals)
{
    if (std::isinf(db) && db < 0) return "-inf";
    return format("%.*f", decimals, db);
}

// `line` cut to `max` visible characters (UTF-8 aware; device names need
// not be ASCII). Escape sequences take no room and are all kept, so colours
// still end where they should.
std::string clip_line(const std::string& line, int max)
{
    std::string out;
    int visible = 0;
    bool keeping = true;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto byte = static_cast<unsigned char>(line[i]);
        if (byte == 0x1b) {
            const std::size_t end = line.find_first_of("ABCDHJKm", i);
            out.append(line, i, end == std::string::npos ? std::string::npos : end - i + 1);
            if (end == std::string::npos) break;
            i = end;
        } else if ((byte & 0xC0) == 0x80) { // continues the character before
            if (keeping) out += line[i];
        } else {
            keeping = visible < max;
            if (keeping) {
                out += line[i];
                ++visible;
            }
        }
    }
    return out;
}

// Cells of a bar `width` wide up to level `db` (floor_db..0 dBFS).
int cells_for(double db, int width)
{
    if (!(db > floor_db)) return 0;
    return std::clamp(static_cast<int>(std::lround((db - floor_db) / -floor_db * width)), 0, width);
}

// ---- The meter ------------------------------------------------------------------------

class meter {
public:
    meter(asio::io_context& io, coaudio::input_stream& mic, coaudio::device_info dev, bool terminal,
          bool keys, clock_type::duration interval, double seconds)
        : io_(io), mic_(mic), dev_(std::move(dev)), terminal_(terminal), interval_(interval),
          seconds_(seconds), acc_(mic.channels()), hub_(mic), levels_(hub_.make_reader()),
          timer_(io), signals_(io, SIGINT, SIGTERM),
          rms_(static_cast<std::size_t>(mic.channels()), minus_inf), peak_(rms_),
          holds_(rms_.size())
    {
        color_ = terminal_ && std::getenv("NO_COLOR") == nullptr;
#if defined(_WIN32)
        // No SIGHUP or SIGQUIT, and no TERM: a console that takes ANSI
        // sequences takes colours (main() checked).
        HANDLE input = nullptr;
        if (keys &&
            ::DuplicateHandle(::GetCurrentProcess(), ::GetStdHandle(STD_INPUT_HANDLE),
                              ::GetCurrentProcess(), &input, 0, FALSE, DUPLICATE_SAME_ACCESS))
            keys_.emplace(io, input);
#else
        signals_.add(SIGHUP);
        signals_.add(SIGQUIT);
        color_ = color_ &&
                 std::string_view(std::getenv("TERM") ? std::getenv("TERM") : "dumb") != "dumb";
        if (keys) keys_.emplace(io, ::dup(STDIN_FILENO));
        // A pipe or socket on standard output: watch it, so that a reader
        // that goes (`meter | head -1`) ends the meter at once, not at the
        // next write. Only waited on, never written through.
        struct stat st {};
        if (!terminal_ && ::fstat(STDOUT_FILENO, &st) == 0 &&
            (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
            coaudio::error_code ec; // Asio's own: std::error_code, or Boost's on Boost.Asio
            output_.emplace(io);
            output_->assign(::dup(STDOUT_FILENO), ec);
            if (ec) output_.reset();
        }
#endif
    }

    /// Runs until asked to quit; returns the exit status.
    int run()
    {
        start_ = last_tick_ = last_arrival_ = clock_type::now();
        if (const auto& p = mic_.params(); p.frames_per_block > 0 && p.sample_rate > 0)
            stale_after_ = std::max(
                stale_after_,
                std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(
                    2.0 * double(p.frames_per_block) / p.sample_rate)));
        spawn(capture());
        spawn(redraw());
        spawn(watch_signals());
#if !defined(_WIN32)
        if (output_) watch_output();
#endif
        if (keys_) spawn(read_keys());
        io_.run();
        // From here on a signal takes its default action again: if closing
        // the stream hangs, Ctrl-C still ends the program.
        coaudio::error_code ignored;
        signals_.clear(ignored);
        if (!terminal_) {
            const auto& c = final_counters_;
            std::printf("# stopped after %.3f s: frames=%llu overflows=%llu dropped=%llu\n",
                        std::chrono::duration<double>(clock_type::now() - start_).count(),
                        static_cast<unsigned long long>(c.frames),
                        static_cast<unsigned long long>(c.overflows),
                        static_cast<unsigned long long>(c.frames_dropped));
            std::fflush(stdout);
        }
        return status_;
    }

#if defined(COAUDIO_HAS_SNDFILE)
    /// Records every frame into `file` as well, through a reader of its own.
    /// Call before `run`.
    void record(coaudio::sound_file& file)
    {
        // Two seconds of room: the recording loses nothing while a write is
        // slow (the write runs on the io thread, and the bars wait for it).
        recorder_.emplace(hub_.make_reader(static_cast<std::size_t>(2 * mic_.sample_rate())));
        spawn(write_file(file));
    }

    /// Frames written so far, silence for lost input included.
    std::uint64_t frames_recorded() const noexcept
    {
        return recorded_;
    }
#endif

    /// Whether `q` and `r` are read.
    bool reads_keys() const noexcept
    {
        return keys_.has_value();
    }

    /// Why the meter stopped, if not because it was asked to.
    const std::string& failure() const noexcept
    {
        return failure_;
    }

private:
    // Every coroutine ends when `quit` cancels what it waits on.
    template <class Awaitable>
    void spawn(Awaitable a)
    {
        asio::co_spawn(io_, std::move(a), [this](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                quit(exit_failed, x.what());
            }
        });
    }

    void quit(int status, std::string why = {})
    {
        if (quitting_) return;
        quitting_ = true;
        status_ = status;
        failure_ = std::move(why);
        final_counters_ = mic_.counters();
        timer_.cancel();
        signals_.cancel();
        if (keys_) keys_->cancel();
#if !defined(_WIN32)
        if (output_) output_->cancel();
#endif
        // The pending reads complete with operation_aborted; a recorder still
        // gets what its reader holds. The stream is closed later, by its
        // owner, once the terminal has been restored: closing a stream whose
        // server has gone can block for a long time.
        hub_.close();
    }

    // Drains whatever the ring holds, however the host sized its blocks.
    asio::awaitable<void> capture()
    {
        const std::size_t frames = std::max<std::size_t>(mic_.ring_capacity(), 1024);
        std::vector<float> block(frames * static_cast<std::size_t>(mic_.channels()));
        for (;;) {
            auto [ec, bytes] = co_await levels_.async_read_some(
                asio::buffer(block), coaudio::as_tuple(asio::use_awaitable));
            if (quitting_) co_return;
            if (ec) {
                quit(exit_failed, "capture stopped: " + ec.message());
                co_return;
            }
            acc_.add(std::span(block).first(bytes / sizeof(float)));
        }
    }

#if defined(COAUDIO_HAS_SNDFILE)
    // Writes what the recorder's reader gets, and silence where it lost
    // frames. After `quit` it still writes what its reader holds, then ends.
    asio::awaitable<void> write_file(coaudio::sound_file& file)
    {
        const auto channels = static_cast<std::size_t>(mic_.channels());
        std::vector<float> block(4096 * channels);
        std::vector<float> silence;
        for (;;) {
            auto [ec, frames] = co_await recorder_->async_read_frames(
                std::span(block), coaudio::as_tuple(asio::use_awaitable));
            std::error_code wec;
            for (std::uint64_t lost = recorder_->last_read().frames_lost; lost > 0 && !wec;) {
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(lost, 4096));
                silence.resize(block.size());
                const std::size_t put =
                    file.write_frames(std::span<const float>(silence).first(n * channels), wec);
                recorded_ += put;
                lost -= put;
            }
            if (!wec && frames > 0)
                recorded_ +=
                    file.write_frames(std::span<const float>(block).first(frames * channels), wec);
            if (wec) {
                quit(exit_failed, "cannot write the recording: " + wec.message());
                co_return;
            }
            if (ec) {
                if (!quitting_) quit(exit_failed, "recording stopped: " + ec.message());
                co_return;
            }
        }
    }
#endif

    // Redraws on deadlines that advance by a fixed step, so the rate stays
    // steady whatever the block size; after a stall it resumes from now.
    asio::awaitable<void> redraw()
    {
        auto next = clock_type::now();
        if (terminal_) draw_terminal();
        for (;;) {
            next += interval_;
            timer_.expires_at(next);
            auto [ec] = co_await timer_.async_wait(coaudio::as_tuple(asio::use_awaitable));
            if (ec || quitting_) co_return;
            const auto now = clock_type::now();
            if (now - next > interval_) next = now;
            tick(now);
            if (quitting_) co_return; // the output has gone
            if (seconds_ > 0 && std::chrono::duration<double>(now - start_).count() >= seconds_) {
                quit(exit_ok);
                co_return;
            }
        }
    }

#if !defined(_WIN32)
    // The far end of a pipe closed: nobody to meter for, so quit quietly.
    void watch_output()
    {
        const int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
        output_->async_wait(asio::posix::descriptor_base::wait_error, [this](std::error_code ec) {
            if (!ec) quit(exit_ok);
        });
        // Starting the wait made the descriptor non-blocking, and with it
        // standard output, which it shares: a slow reader would then fail
        // our writes with EAGAIN. Back to blocking; the wait is registered.
        if (flags != -1) ::fcntl(STDOUT_FILENO, F_SETFL, flags);
    }
#endif

    asio::awaitable<void> watch_signals()
    {
        auto [ec, signal] = co_await signals_.async_wait(coaudio::as_tuple(asio::use_awaitable));
        if (!ec) quit(exit_ok);
        (void)signal;
    }

    void key(char k)
    {
        if (k == 'q' || k == 'Q') quit(exit_ok);
        if (k == 'r' || k == 'R')
            for (auto& h : holds_)
                h.reset();
    }

#if defined(_WIN32)
    // The console's input handle is signalled while input records wait, so
    // Asio waits on it as on any kernel object; ReadConsoleInput then takes
    // what is there without blocking. Records that are not key presses
    // (key releases, focus, resizing) are taken and ignored.
    asio::awaitable<void> read_keys()
    {
        INPUT_RECORD records[32];
        while (!quitting_) { // `q` calls quit() from here, with no wait pending to cancel
            auto [ec] = co_await keys_->async_wait(coaudio::as_tuple(asio::use_awaitable));
            if (ec || quitting_) co_return;
            DWORD waiting = 0, n = 0;
            if (!::GetNumberOfConsoleInputEvents(keys_->native_handle(), &waiting)) co_return;
            if (waiting == 0) continue;
            if (!::ReadConsoleInputW(keys_->native_handle(), records, std::min<DWORD>(waiting, 32),
                                     &n))
                co_return;
            for (const INPUT_RECORD& r : std::span(records, n))
                if (r.EventType == KEY_EVENT && r.Event.KeyEvent.bKeyDown &&
                    r.Event.KeyEvent.uChar.UnicodeChar < 128)
                    key(static_cast<char>(r.Event.KeyEvent.uChar.UnicodeChar));
        }
    }
#else
    asio::awaitable<void> read_keys()
    {
        char keys[64];
        while (!quitting_) { // `q` calls quit() from here, with no read pending to cancel
            auto [ec, n] = co_await keys_->async_read_some(asio::buffer(keys),
                                                           coaudio::as_tuple(asio::use_awaitable));
            if (ec || quitting_) co_return; // cancelled, or the terminal went away (SIGHUP follows)
            for (char k : std::string_view(keys, n))
                key(k);
        }
    }
#endif

    // Takes the levels of everything captured since the previous tick.
    void tick(clock_type::time_point now)
    {
        const std::chrono::duration<double> elapsed = now - last_tick_;
        last_tick_ = now;
        const bool fresh = acc_.frames() > 0;
        for (int c = 0; c < acc_.channels(); ++c) {
            const auto i = static_cast<std::size_t>(c);
            // With blocks longer than the interval some ticks see no frames:
            // the figures stay, and the hold keeps its own time.
            if (fresh) {
                rms_[i] = acc_.rms_dbfs(c);
                peak_[i] = acc_.peak_dbfs(c);
            }
            holds_[i].update(fresh ? peak_[i] : minus_inf, elapsed);
        }
        acc_.reset();
        // No frame counted for longer than two blocks take, and at least half
        // a second (a stopped server): the figures are stale, and both views
        // say so.
        if (const auto frames = mic_.counters().frames; frames != last_frames_) {
            last_frames_ = frames;
            last_arrival_ = now;
        }
        arriving_ = now - last_arrival_ <= stale_after_;
        // Once nobody reads the output (`meter | head -1`, a closed
        // terminal), there is nobody to meter for: quit quietly.
        if (!(terminal_ ? draw_terminal() : print_plain_line(now))) quit(exit_ok);
    }

    // ---- plain lines --------------------------------------------------------

    void print_plain_header()
    {
        const auto& p = mic_.params();
        std::printf("# coaudio meter: device %d \"%s\" (%s), %.0f Hz, %d channel%s, %s, %s\n",
                    dev_.index, dev_.name.c_str(), dev_.host_api_name.c_str(), p.sample_rate,
                    p.channels, p.channels == 1 ? "" : "s", block_text().c_str(),
                    latency_text().c_str());
        std::fflush(stdout);
    }

    bool print_plain_line(clock_type::time_point now)
    {
        // The header comes with the first line, once callbacks have shown
        // the block size and latency that the host really uses.
        if (!header_printed_) {
            print_plain_header();
            header_printed_ = true;
        }
        auto list = [&](auto&& item) {
            std::string s;
            for (std::size_t i = 0; i < rms_.size(); ++i)
                s += (i ? "," : "") + item(i);
            return s;
        };
        const auto c = mic_.counters();
        std::printf(
            "time=%.3f rms=%s peak=%s hold=%s clip=%s overflows=%llu dropped=%llu%s\n",
            std::chrono::duration<double>(now - start_).count(),
            list([&](std::size_t i) { return arriving_ ? db_text(rms_[i], 2) : "-"; }).c_str(),
            list([&](std::size_t i) { return arriving_ ? db_text(peak_[i], 2) : "-"; }).c_str(),
            list([&](std::size_t i) { return db_text(holds_[i].value(), 2); }).c_str(),
            list([&](std::size_t i) {
                return std::string(coaudio::is_clipping(holds_[i].value()) ? "1" : "0");
            }).c_str(),
            static_cast<unsigned long long>(c.overflows),
            static_cast<unsigned long long>(c.frames_dropped),
            arriving_ ? "" : " (no audio is arriving)");
        return examples::stdout_open();
    }

    // ---- the screen ----------------------------------------------------------

    std::string block_text() const
    {
        const auto block = mic_.params().frames_per_block;
        return block ? format("block %lu frames", block)
                     : std::string("block size chosen by the host, not known yet");
    }

    // PortAudio's figure, or the one the host's timestamps show; some hosts
    // report none, and a 0 printed as "0.0 ms" would look measured.
    std::string latency_text() const
    {
        const double latency = mic_.params().latency;
        return latency > 0 ? format("input latency %.1f ms", latency * 1000)
                           : std::string("input latency not reported by the host");
    }

    std::string paint(std::string_view text, const char* sgr) const
    {
        if (!color_) return std::string(text);
        return std::string("\x1b[") + sgr + "m" + std::string(text) + "\x1b[0m";
    }

    // One channel: [####====|    ] with the filled part coloured by zone:
    // green below -18 dBFS, yellow to -6, red above.
    std::string bar(std::size_t i, int width) const
    {
        const int rms = cells_for(rms_[i], width);
        const int peak = std::max(rms, cells_for(peak_[i], width));
        const int hold = holds_[i].value() > floor_db
                             ? std::max(cells_for(holds_[i].value(), width) - 1, 0)
                             : -1;
        std::string out = "[";
        int current = -1;
        for (int cell = 0; cell < width; ++cell) {
            const char ch = cell == hold ? '|' : cell < rms ? '#' : cell < peak ? '=' : ' ';
            const double db = floor_db + (cell + 0.5) * -floor_db / width;
            const int zone = ch == ' ' ? 0 : db < -18 ? 32 : db < -6 ? 33 : 31;
            if (color_ && zone != current) {
                out += format("\x1b[%dm", zone);
                current = zone;
            }
            out += ch;
        }
        if (color_) out += "\x1b[0m";
        return out + "]";
    }

    // The scale under the bars: a label every 10 dB, ending at its cell,
    // left out where it would run into the previous one.
    std::string scale(int width) const
    {
        std::string s(static_cast<std::size_t>(width) + 2, ' ');
        int free_from = 0;
        for (int db = static_cast<int>(floor_db); db <= 0; db += 10) {
            const std::string label = std::to_string(db);
            const int len = static_cast<int>(label.size());
            const int start = std::clamp(cells_for(db, width), len, width) - len + 1;
            if (start < free_from) continue;
            s.replace(static_cast<std::size_t>(start), label.size(), label);
            free_from = start + len + 1;
        }
        return s + "dBFS";
    }

    bool draw_terminal()
    {
        const auto size = query_size();
        // "  1 [" bar "] rms -99.9  peak -99.9  hold -99.9  CLIP", with room
        // for a figure or two of six characters.
        const int width = std::clamp(size.columns - 51, 10, 72);
        const auto& p = mic_.params();
        const auto c = mic_.counters();
        const double seconds = std::chrono::duration<double>(last_tick_ - start_).count();
        std::vector<std::string> lines;
        lines.push_back(paint("coaudio meter", "1") +
                        (reads_keys() ? "   q quits, r resets the peak holds" : "   Ctrl-C quits"));
        lines.push_back(format("device %d: %s  (%s)", dev_.index, dev_.name.c_str(),
                               dev_.host_api_name.c_str()));
        lines.push_back(format("%.0f Hz, %d channel%s, %s, %s", p.sample_rate, p.channels,
                               p.channels == 1 ? "" : "s", block_text().c_str(),
                               latency_text().c_str()));
        lines.push_back("");
        for (std::size_t i = 0; i < rms_.size(); ++i) {
            const bool clip = coaudio::is_clipping(holds_[i].value());
            lines.push_back(format("%3zu ", i + 1) + bar(i, width) +
                            format(" rms %5s  peak %5s  hold %5s", db_text(rms_[i], 1).c_str(),
                                   db_text(peak_[i], 1).c_str(),
                                   db_text(holds_[i].value(), 1).c_str()) +
                            (clip ? "  " + paint("CLIP", "1;41;97") : ""));
        }
        lines.push_back("    " + scale(width));
        lines.push_back("");
        std::string status = format("overflows %llu   dropped frames %llu   running %.0f s",
                                    static_cast<unsigned long long>(c.overflows),
                                    static_cast<unsigned long long>(c.frames_dropped), seconds);
        if (!arriving_) status += "   (no audio is arriving)";
        lines.push_back(status);

        // A window too small for all that (20x5): one compact line a
        // channel, under a title when there is room for one.
        if (static_cast<int>(lines.size()) > size.rows - 1 || size.columns < 40) {
            lines.clear();
            if (size.rows - 1 > static_cast<int>(rms_.size()))
                lines.push_back(paint("rms/peak dBFS", "1"));
            for (std::size_t i = 0; i < rms_.size(); ++i) {
                const bool clip = coaudio::is_clipping(holds_[i].value());
                lines.push_back(arriving_ ? format("%zu %s/%s", i + 1, db_text(rms_[i], 1).c_str(),
                                                   db_text(peak_[i], 1).c_str()) +
                                                (clip ? " " + paint("CLIP", "1;41;97") : "")
                                          : format("%zu no audio", i + 1));
            }
        }

        // Never more rows than the window has: moving up past its top would
        // leave stale copies behind.
        if (static_cast<int>(lines.size()) > size.rows - 1)
            lines.resize(static_cast<std::size_t>(std::max(size.rows - 1, 1)));

        std::string frame;
        if (drawn_lines_ > 0 &&
            (size.columns != drawn_size_.columns || size.rows != drawn_size_.rows)) {
            // Resized: the terminal may have rewrapped the old frame, so
            // moving up would miss its start. Start afresh at the top.
            frame += "\x1b[H\x1b[2J";
        } else if (drawn_lines_ > 0) {
            frame += format("\x1b[%dA\r", drawn_lines_);
        }
        drawn_size_ = size;
        // Every row is cut to the window, so that none wraps and moving the
        // cursor up lands where the frame began.
        for (const auto& l : lines)
            frame += clip_line(l, size.columns - 1) + "\x1b[K\n";
        frame += "\x1b[J";
        drawn_lines_ = static_cast<int>(lines.size());
        std::fwrite(frame.data(), 1, frame.size(), stdout);
        return examples::stdout_open();
    }

    asio::io_context& io_;
    coaudio::input_stream& mic_;
    coaudio::device_info dev_;
    bool terminal_;
    bool color_ = false;
    clock_type::duration interval_;
    double seconds_;
    coaudio::level_accumulator acc_;
    coaudio::capture_hub hub_;       // the one capture, shared by the bars and the recorder
    coaudio::capture_reader levels_; // what the bars read
#if defined(COAUDIO_HAS_SNDFILE)
    std::optional<coaudio::capture_reader> recorder_; // with --record
    std::uint64_t recorded_ = 0;
#endif
    asio::steady_timer timer_;
    asio::signal_set signals_;
#if defined(_WIN32)
    std::optional<asio::windows::object_handle> keys_; // the console's input
#else
    std::optional<asio::posix::stream_descriptor> keys_;
    std::optional<asio::posix::stream_descriptor> output_; // a pipe on standard output
#endif
    std::vector<double> rms_, peak_;
    std::vector<coaudio::peak_hold> holds_;
    clock_type::time_point start_, last_tick_, last_arrival_;
    std::uint64_t last_frames_ = 0;
    bool arriving_ = true;        // audio arrived within stale_after_
    bool header_printed_ = false; // plain output: the header goes with the first line
    // Longer than any two blocks take to arrive, so a long block is not taken for a stall.
    clock_type::duration stale_after_ = std::chrono::milliseconds(500);
    int drawn_lines_ = 0;
    terminal_size drawn_size_;
    bool quitting_ = false;
    int status_ = exit_ok;
    std::string failure_;
    coaudio::stream_counters final_counters_;
};

int no_device(const std::string& problem)
{
    std::fprintf(stderr, "meter: %s\n\nAudio devices:\n", problem.c_str());
    print_devices(stderr);
    std::fprintf(
        stderr,
        "\nChoose one with --device NAME|INDEX; --verbose shows what ALSA and JACK report.\n"
        "Without a sound card, examples/run-meter.sh --jack meters a test tone played\n"
        "through a private JACK server.\n");
    return exit_no_device;
}

int run(int argc, char** argv)
{
    options opt;
    examples::command_line cli("meter", usage_text);
    cli.flag("--list", opt.list);
    cli.text("--device", opt.device);
    cli.whole("--channels", opt.channels, 1, 256);
    cli.number("--rate", opt.rate, {.min = 1000, .max = 1e6});
    cli.whole("--block", opt.block, 1, 8192);
    cli.number("--interval", opt.interval_ms, {.min = 5, .max = 60000});
    cli.number("--seconds", opt.seconds, {.min = 0, .max = 1e9});
    cli.text("--record", opt.record);
    cli.parse(argc, argv);
#if defined(COAUDIO_HAS_SNDFILE)
    if (opt.record) {
        std::error_code format_ec;
        coaudio::file_format_for(*opt.record, 2, 48000, format_ec);
        if (format_ec)
            cli.usage_error("cannot write " + *opt.record +
                            " in that format: " + format_ec.message());
    }
#else
    if (opt.record)
        cli.usage_error("--record needs libsndfile, and this meter was built without it");
#endif

    examples::require_descriptors(cli);
    examples::quiet_stderr quiet(!cli.verbose());
    auto fail = [&](const std::string& problem) {
        quiet.release();
        return no_device(problem);
    };

    // One PortAudio initialisation for the whole run: each one rescans the devices.
    std::error_code ec;
    coaudio::library library(ec);
    if (ec) return fail("cannot initialise PortAudio: " + ec.message());

    if (opt.list) {
        std::printf("Audio devices (%s):\n", coaudio::library::portaudio_version());
        print_devices(stdout);
        return examples::finish("meter", exit_ok);
    }

    std::string problem;
    const auto dev = find_input_device(opt.device, problem);
    if (!dev) return fail(problem);

    asio::io_context io(1);
    coaudio::input_stream mic(io);
    const coaudio::stream_config cfg{
        .device = dev->index,
        .channels = opt.channels.value_or(std::min(dev->max_input_channels, 2)),
        .sample_rate = opt.rate,
        .frames_per_block = opt.block,
        .latency = coaudio::latency_hint::low(),
    };
    mic.open(cfg, ec);
    if (!ec) mic.start(ec);
    if (ec) {
        return fail(format("cannot open device %d (%s, %s) with %d channel%s at %s: %s", dev->index,
                           dev->name.c_str(), dev->host_api_name.c_str(), cfg.channels,
                           cfg.channels == 1 ? "" : "s",
                           cfg.sample_rate ? format("%.0f Hz", cfg.sample_rate).c_str()
                                           : "its default rate",
                           ec.message().c_str()) +
                    format(" (it has %d input channel%s)", dev->max_input_channels,
                           dev->max_input_channels == 1 ? "" : "s"));
    }

    quiet.release();

#if defined(COAUDIO_HAS_SNDFILE)
    coaudio::sound_file take;
    if (opt.record) {
        const int file_format =
            coaudio::file_format_for(*opt.record, mic.channels(), mic.sample_rate(), ec);
        if (!ec)
            take = coaudio::sound_file::create(*opt.record, mic.sample_rate(), mic.channels(),
                                               file_format, ec);
        if (ec) {
            std::fprintf(stderr, "meter: cannot create %s: %s\n", opt.record->c_str(),
                         ec.message().c_str());
            return examples::finish("meter", exit_failed);
        }
    }
    std::uint64_t recorded = 0;
#endif

#if defined(_WIN32)
    // Bars only where the console takes ANSI sequences; elsewhere plain lines.
    const bool terminal = ::_isatty(1) != 0 && console_takes_ansi();
    DWORD input_mode = 0;
    const bool keys = ::GetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), &input_mode) != 0;
#else
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    const bool keys = owns_terminal(STDIN_FILENO);
#endif
    const auto interval = opt.interval_ms
                              ? std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double, std::milli>(*opt.interval_ms))
                          : terminal ? clock_type::duration(default_interval)
                                     : clock_type::duration(default_plain_interval);
    int status = exit_ok;
    std::string failure;
    {
        // The meter first, so that its signal_set catches Ctrl-C before the
        // terminal is changed; the guard goes first, whatever ends the run.
        meter m(io, mic, *dev, terminal, keys, interval, opt.seconds);
#if defined(COAUDIO_HAS_SNDFILE)
        if (take.is_open()) m.record(take);
#endif
        terminal_guard guard(keys, terminal && owns_terminal(1));
        status = m.run();
        failure = m.failure();
#if defined(COAUDIO_HAS_SNDFILE)
        recorded = m.frames_recorded();
#endif
    }
#if defined(COAUDIO_HAS_SNDFILE)
    if (take.is_open()) {
        take.close(ec);
        if (ec) {
            std::fprintf(stderr, "meter: cannot finish %s: %s\n", opt.record->c_str(),
                         ec.message().c_str());
            status = exit_failed;
        } else {
            std::printf("meter: recorded %llu frames (%.3f s) to %s\n",
                        static_cast<unsigned long long>(recorded),
                        double(recorded) / mic.sample_rate(), opt.record->c_str());
        }
    }
#endif
    if (!failure.empty()) std::fprintf(stderr, "meter: %s\n", failure.c_str());
    return examples::finish("meter", status);
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        restore_terminal();
        std::fprintf(stderr, "meter: %s\n", e.what());
        return exit_failed;
    }
}
