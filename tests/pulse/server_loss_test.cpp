// A desktop server (PulseAudio, or PipeWire with pipewire-pulse) is killed
// under pending operations, reached through PortAudio's ALSA host:
//   - a pending read and a pending write complete with device_lost within 1 s;
//   - stop, close and the destructor return at once, on the io thread and
//     off it (PortAudio's issue #820: a ten-minute stall when PipeWire
//     restarts, which no coaudio user may inherit);
//   - after the server restarts, a new process streams again.
// Every PortAudio control call the library makes is timed (the test
// interposes them) and printed. The test starts, kills and restarts a server
// of its own, so the shared fixture server is never touched.
#include <coaudio/coaudio.hpp>

#include "pulse/desktop.hpp"
#include "support/catch.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ---- Timing PortAudio's calls --------------------------------------------------
//
// The library is header-only, so its calls to these functions bind to the
// definitions below, which time the real ones (found with RTLD_NEXT).

namespace pa_timing {

struct call {
    std::string name;
    std::string where;
    double ms;
    bool after_kill;
};

thread_local const char* where = "main thread";
std::mutex mutex;
std::vector<call> calls;
std::atomic<bool> after_kill{false};

template <class Fn>
Fn real(const char* name)
{
    auto fn = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
    if (fn == nullptr) std::abort();
    return fn;
}

template <class Fn, class... Args>
PaError timed(const char* name, Fn fn, Args... args)
{
    const auto t0 = clock_type::now();
    const PaError rc = fn(args...);
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    std::lock_guard lock(mutex);
    calls.push_back({name, where, ms, after_kill});
    return rc;
}

// A function's name as a template argument.
template <std::size_t N>
struct name_literal {
    char text[N];
    constexpr name_literal(const char (&s)[N]) { std::copy_n(s, N, text); }
};

// Calls the real PortAudio function `Name`, timed.
template <name_literal Name, class... Args>
PaError call_real(Args... args)
{
    static const auto fn = real<PaError (*)(Args...)>(Name.text);
    return timed(Name.text, fn, args...);
}

void print()
{
    std::lock_guard lock(mutex);
    std::printf("PortAudio calls (interposed and timed):\n");
    for (const auto& c : calls)
        std::printf("  %-20s %-20s %-18s %9.3f ms\n", c.name.c_str(),
                    c.after_kill ? "after the kill" : "before", c.where.c_str(), c.ms);
}

// The slowest call after the kill, and how many calls to `name` came before it.
double slowest_after_kill()
{
    std::lock_guard lock(mutex);
    double worst = 0;
    for (const auto& c : calls)
        if (c.after_kill) worst = std::max(worst, c.ms);
    return worst;
}
std::size_t count_before_kill(const std::string& name)
{
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(), [&](const call& c) {
        return !c.after_kill && c.name == name;
    }));
}

} // namespace pa_timing

// One line each: the interposers differ only in their names.
// clang-format off
extern "C" {
PaError Pa_StartStream(PaStream* s) { return pa_timing::call_real<"Pa_StartStream">(s); }
PaError Pa_StopStream(PaStream* s) { return pa_timing::call_real<"Pa_StopStream">(s); }
PaError Pa_AbortStream(PaStream* s) { return pa_timing::call_real<"Pa_AbortStream">(s); }
PaError Pa_CloseStream(PaStream* s) { return pa_timing::call_real<"Pa_CloseStream">(s); }
PaError Pa_IsStreamActive(PaStream* s) { return pa_timing::call_real<"Pa_IsStreamActive">(s); }
PaError Pa_IsStreamStopped(PaStream* s) { return pa_timing::call_real<"Pa_IsStreamStopped">(s); }
PaError Pa_Terminate(void) { return pa_timing::call_real<"Pa_Terminate">(); }
}
// clang-format on

namespace {

// ---- The server ---------------------------------------------------------------

// A private server started by tests/pulse/desktop-server.sh in a directory of
// its own; its environment becomes this process's, so PortAudio reaches it.
class private_server {
public:
    private_server()
        : kind_(test::required_env("COAUDIO_DESKTOP_SERVER")),
          script_(test::required_env("COAUDIO_DESKTOP_SCRIPT")),
          dir_(test::required_env("COAUDIO_DESKTOP_LOSS_DIR"))
    {
        ::setenv("XDG_RUNTIME_DIR", (dir_ + "/run").c_str(), 1);
        ::setenv("PULSE_SERVER", ("unix:" + dir_ + "/run/pulse/native").c_str(), 1);
        start();
    }
    private_server(const private_server&) = delete;
    private_server& operator=(const private_server&) = delete;
    ~private_server() { stop(); }

    void stop() { script("stop"); }

    void start()
    {
        if (script("start") != 0) throw std::runtime_error("cannot start the " + kind_ + " server");
    }

    /// SIGKILLs the server: pulseaudio, or PipeWire's daemon and the
    /// pipewire-pulse that the client is connected to (a crash of the session).
    void kill()
    {
        std::ifstream pids(dir_ + "/pids");
        std::string program;
        pid_t pid = 0;
        int killed = 0;
        while (pids >> program >> pid) {
            if (program == "pulseaudio" || program == "pipewire" || program == "pipewire-pulse") {
                ::kill(pid, SIGKILL);
                ++killed;
            }
        }
        if (killed == 0)
            throw std::runtime_error("no server process recorded in " + dir_ + "/pids");
    }

    const std::string& kind() const { return kind_; }

private:
    int script(const char* action)
    {
        const pid_t pid = test::spawn({"bash", script_, kind_, action, dir_}, -1, true);
        return test::wait_exit(pid, 30s).value_or(-1);
    }

    std::string kind_, script_, dir_;
};

// ---- Bounded steps ----------------------------------------------------------------

// Ends the whole process, after saying what hung, when a step runs past its
// limit: a stall in PortAudio must fail this test, never hang the suite.
class hang_guard {
public:
    /// Also ends the process when the whole test outlives `overall`: a
    /// failed requirement leaves the streams to their destructors, unguarded.
    explicit hang_guard(std::chrono::seconds overall)
        : overall_(clock_type::now() + overall), thread_([this] { watch(); })
    {
    }
    hang_guard(const hang_guard&) = delete;
    hang_guard& operator=(const hang_guard&) = delete;
    ~hang_guard()
    {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    /// Runs `fn`, named `what`, and returns how long it took in milliseconds.
    double time(const std::string& what, const std::function<void()>& fn,
                std::chrono::seconds limit = 10s)
    {
        {
            std::lock_guard lock(mutex_);
            what_ = what;
            deadline_ = clock_type::now() + limit;
        }
        cv_.notify_all();
        const auto t0 = clock_type::now();
        fn();
        const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
        std::lock_guard lock(mutex_);
        deadline_.reset();
        what_ = "the test";
        std::printf("  %-36s %9.3f ms\n", what.c_str(), ms);
        return ms;
    }

private:
    void watch()
    {
        std::unique_lock lock(mutex_);
        const auto until = [&] { return deadline_ ? std::min(*deadline_, overall_) : overall_; };
        while (!done_) {
            if (cv_.wait_until(lock, until()) == std::cv_status::timeout && !done_ &&
                clock_type::now() >= until()) {
                std::printf("HUNG: %s did not return within its limit\n", what_.c_str());
                pa_timing::print();
                std::fflush(stdout);
                std::_Exit(3);
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<clock_type::time_point> deadline_;
    clock_type::time_point overall_;
    std::string what_ = "the test";
    bool done_ = false;
    std::thread thread_;
};

// ---- PortAudio's error output ----------------------------------------------------

// Sends this process's stderr to a file while it lives. PortAudio's ALSA host
// may report the same failure in a loop once the server is gone (a million
// lines in 40 s were seen), which must not flood the test log: the file is
// summarised instead, and cut to its first megabyte.
class stderr_capture {
public:
    explicit stderr_capture(std::string path) : path_(std::move(path)), saved_(::dup(STDERR_FILENO))
    {
        const int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDERR_FILENO);
            ::close(fd);
        }
    }
    stderr_capture(const stderr_capture&) = delete;
    stderr_capture& operator=(const stderr_capture&) = delete;
    ~stderr_capture()
    {
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
    }

    /// Prints how much was written and the most frequent lines.
    void summarise()
    {
        std::fflush(stderr);
        std::ifstream in(path_);
        std::map<std::string, std::size_t> counts;
        std::size_t lines = 0;
        for (std::string line; std::getline(in, line); ++lines)
            ++counts[line.substr(0, 160)];
        std::vector<std::pair<std::size_t, std::string>> top;
        for (auto& [line, n] : counts)
            top.emplace_back(n, line);
        std::sort(top.rbegin(), top.rend());
        std::printf("stderr (%s): %zu lines; the most frequent:\n", path_.c_str(), lines);
        for (std::size_t i = 0; i < std::min<std::size_t>(top.size(), 4); ++i)
            std::printf("  %8zu x %s\n", top[i].first, top[i].second.c_str());
        ::truncate(path_.c_str(),
                   std::min<off_t>(1 << 20, static_cast<off_t>(std::filesystem::file_size(path_))));
    }

private:
    std::string path_;
    int saved_;
};

// ---- Streams with a read and a write pending --------------------------------------

// An input and an output stream on `io`, each with an operation pending; what
// they complete with, and when.
struct pending_pair {
    std::unique_ptr<coaudio::input_stream> in;
    std::unique_ptr<coaudio::output_stream> out;
    std::vector<float> second = std::vector<float>(48000);
    std::optional<std::error_code> read_ec, write_ec;
    clock_type::time_point read_done, write_done;
    std::function<void(std::error_code, std::size_t)> on_read, on_write;

    pending_pair(asio::io_context& io, const coaudio::stream_config& cfg)
        : in(std::make_unique<coaudio::input_stream>(io, cfg)),
          out(std::make_unique<coaudio::output_stream>(io, cfg))
    {
        in->start();
        out->start();
        // Each is issued again when it succeeds (a read may end early at an
        // xrun; a write of a second ends within a second), so that one of
        // each is always pending.
        on_read = [this](std::error_code ec, std::size_t) {
            if (!ec) return in->async_read_frames(std::span(second), on_read);
            read_ec = ec;
            read_done = clock_type::now();
        };
        on_write = [this](std::error_code ec, std::size_t) {
            if (!ec) return out->async_write_frames(std::span<const float>(second), on_write);
            write_ec = ec;
            write_done = clock_type::now();
        };
        on_read({}, 0);
        on_write({}, 0);
    }

    bool done() const { return read_ec && write_ec; }

    void report(clock_type::time_point killed, const char* label) const
    {
        const auto ms = [&](auto t) {
            return std::chrono::duration<double, std::milli>(t - killed).count();
        };
        const auto say = [&](const char* op, const std::optional<std::error_code>& ec,
                             clock_type::time_point t) {
            if (ec)
                std::printf("%s: %s failed %.1f ms after the kill (%s)\n", label, op, ms(t),
                            ec->message().c_str());
            else
                std::printf("%s: %s still pending %.1f ms after the kill\n", label, op,
                            ms(clock_type::now()));
        };
        say("read", read_ec, read_done);
        say("write", write_ec, write_done);
        const auto c = in->counters();
        std::printf("%s: input %s, %llu frames captured\n", label,
                    in->is_active() ? "active" : "inactive",
                    static_cast<unsigned long long>(c.frames));
    }

    void check(clock_type::time_point killed, const char* label) const
    {
        const auto ms = [&](auto t) {
            return std::chrono::duration<double, std::milli>(t - killed).count();
        };
        report(killed, label);
        REQUIRE(read_ec);
        REQUIRE(write_ec);
        CHECK(*read_ec == coaudio::errc::device_lost);
        CHECK(*write_ec == coaudio::errc::device_lost);
        CHECK(ms(read_done) < 1000);
        CHECK(ms(write_done) < 1000);
    }

    // stop, close and the destructor, each timed; each must return at once.
    void tear_down(hang_guard& guard, const char* where)
    {
        pa_timing::where = where;
        const std::string w = where;
        std::error_code ec;
        CHECK(guard.time("input stop, " + w, [&] { in->stop(ec); }) < 100);
        CHECK(guard.time("output stop, " + w, [&] { out->stop(ec); }) < 100);
        CHECK(guard.time("input close, " + w, [&] { in->close(); }) < 100);
        CHECK(guard.time("output close, " + w, [&] { out->close(); }) < 100);
        CHECK(guard.time("input destructor, " + w, [&] { in.reset(); }) < 100);
        CHECK(guard.time("output destructor, " + w, [&] { out.reset(); }) < 100);
    }
};

} // namespace

TEST_CASE("a killed desktop server fails pending operations with device_lost and lets go at once",
          "[loss]")
{
    private_server server;
    stderr_capture errors(test::required_env("COAUDIO_DESKTOP_LOSS_DIR") + "/stderr.log");
    hang_guard guard(40s);
    std::optional<coaudio::library> lib;
    lib.emplace();
    const coaudio::stream_config cfg{
        .device = test::desktop_device_index(), .channels = 1, .sample_rate = 48000};

    // A: torn down on its io thread (this one); B: its io_context runs on a
    // thread of its own, and it is torn down here, off that thread.
    asio::io_context io_a, io_b;
    pending_pair a(io_a, cfg);
    std::optional<pending_pair> b;
    b.emplace(io_b, cfg);
    auto work_b = asio::make_work_guard(io_b);
    std::thread thread_b([&] {
        pa_timing::where = "io thread B";
        io_b.run();
    });
    // Should a requirement fail, thread B must still end before it is destroyed.
    const std::unique_ptr<std::thread, std::function<void(std::thread*)>> join_b(
        &thread_b, [&](std::thread* t) {
            io_b.stop();
            if (t->joinable()) t->join();
        });

    // Streaming: both inputs have delivered frames (PulseAudio's first
    // capture can take over half a second to arrive) before the kill.
    const auto flowing = [&] {
        return a.in->counters().frames > 0 && b->in->counters().frames > 0;
    };
    for (const auto until = clock_type::now() + 5s; !flowing() && clock_type::now() < until;)
        io_a.run_for(50ms);
    io_a.run_for(200ms);
    std::printf("captured before the kill: %llu and %llu frames\n",
                static_cast<unsigned long long>(a.in->counters().frames),
                static_cast<unsigned long long>(b->in->counters().frames));
    pa_timing::after_kill = true;
    const auto killed = clock_type::now();
    server.kill();
    const auto deadline = killed + 3s;
    while (!a.done() && clock_type::now() < deadline)
        io_a.run_one_until(deadline);
    while (!b->done() && clock_type::now() < deadline)
        std::this_thread::sleep_for(1ms);

    std::printf("%s killed:\n", server.kind().c_str());
    if (!a.done() || !b->done()) {
        // Nothing told coaudio that the server is gone. Killed before its
        // first captured frame, PulseAudio's input did this under ASan: the
        // ALSA host thread spun on an error with the stream still active.
        // Fail here, with the finding, rather than meet that thread in the
        // destructors.
        a.report(killed, "io thread A");
        b->report(killed, "io thread B");
        errors.summarise();
        std::printf("FAILED: no device_lost 3 s after the kill\n");
        std::fflush(stdout);
        server.stop();
        std::_Exit(1);
    }
    a.check(killed, "io thread A");
    b->check(killed, "io thread B");

    asio::post(io_a, [&] { a.tear_down(guard, "io thread"); });
    io_a.restart();
    guard.time("io_a.run() with the teardown", [&] { io_a.run_for(5s); });
    work_b.reset();
    guard.time("io_b.run() returning", [&] { thread_b.join(); });
    b->tear_down(guard, "off the io thread");
    guard.time("library release (Pa_Terminate)", [&] { lib.reset(); });
    pa_timing::print();
    errors.summarise();
    CHECK(pa_timing::count_before_kill("Pa_StartStream") ==
          4); // the interposers see the library's calls
    CHECK(pa_timing::slowest_after_kill() < 100);

    // After a restart, a new process streams through the server again.
    server.start();
    const pid_t child =
        test::spawn({test::required_env("COAUDIO_DESKTOP_STREAMING"), "[loopback]"}, -1, true);
    const auto status = test::wait_exit(child, 30s);
    std::printf("a new process after the restart: exit status %d\n", status.value_or(-1));
    CHECK(status == 0);
}
