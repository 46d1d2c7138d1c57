// coaudio benchmarks: from an audio callback to a coroutine, against what
// users would otherwise write, in one process and one run.
// Distributed under the Boost Software License, Version 1.0.
//
//   coaudio_bench [--quick | --smoke] [--reps N] [--blocks64 N] [--blocks256 N]
//                 [--out DIR] [--json FILE] [--jackd PATH --jack-lsp PATH]
//                 [--valgrind PATH] [--only VARIANT[,VARIANT...]] [--no-ring] [--no-rt]
//
// Prints a markdown table on stdout and writes the figures as JSON; progress
// goes to stderr, prefixed "bench:". It never fails on speed: the exit status
// says only whether the runs could be made. tests/bench/run.sh builds it in
// Release and runs it with JACK and valgrind when they are installed.
#include "bench.hpp"
#include "jack.hpp"

#include <coaudio/library.hpp>
#include <coaudio/ring.hpp>

#include <portaudio.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace bench {
namespace {

// ---- options ------------------------------------------------------------------

struct options {
    int reps = 3;
    int blocks64 = 1200; // 1.6 s of audio per run
    int blocks256 = 400; // 2.1 s
    bool quick = false;
    bool smoke = false;
    bool instructions_child = false;
    bool ring = true; // --no-ring
    bool rt = true;   // --no-rt: synthetic driver stays SCHED_OTHER
    std::string only; // --only KEY[,KEY...]: run only these variants (JSON keys), for profiling
    std::uint64_t ring_frames_total = 16u << 20; // per ring measurement (64 MiB)
    fs::path out = ".";
    fs::path json;
    std::string jackd, jack_lsp, valgrind;
};

[[noreturn]] void usage(int status)
{
    std::fputs(
        "usage: coaudio_bench [--quick | --smoke] [--reps N] [--blocks64 N] [--blocks256 N]\n"
        "                     [--out DIR] [--json FILE] [--jackd PATH --jack-lsp PATH]\n"
        "                     [--valgrind PATH] [--only VARIANT[,VARIANT...]] [--no-ring] "
        "[--no-rt]\n"
        "                     [--timelines DIR]\n"
        "VARIANT: coaudio coaudio_pa_stream asio_post asio_post_bare_io_context mutex_condvar "
        "pa_read_stream\n"
        "         floor_eventfd_epoll floor_futex floor_asio_coroutine ring\n",
        status == 0 ? stdout : stderr);
    std::exit(status);
}

options parse(int argc, char** argv)
{
    options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage(2);
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            o.quick = true;
            o.reps = 1;
            o.blocks64 = 450;
            o.blocks256 = 150;
            o.ring_frames_total = 4u << 20;
        } else if (a == "--smoke") {
            o.smoke = true;
            o.reps = 1;
            o.blocks64 = 120;
            o.blocks256 = 60;
            o.ring_frames_total = 1u << 20;
        } else if (a == "--reps")
            o.reps = std::max(1, std::atoi(value(i).c_str()));
        else if (a == "--blocks64")
            o.blocks64 = std::max(40, std::atoi(value(i).c_str()));
        else if (a == "--blocks256")
            o.blocks256 = std::max(40, std::atoi(value(i).c_str()));
        else if (a == "--out")
            o.out = value(i);
        else if (a == "--json")
            o.json = value(i);
        else if (a == "--jackd")
            o.jackd = value(i);
        else if (a == "--jack-lsp")
            o.jack_lsp = value(i);
        else if (a == "--valgrind")
            o.valgrind = value(i);
        else if (a == "--instructions-child")
            o.instructions_child = true;
        else if (a == "--only")
            o.only = value(i);
        else if (a == "--no-ring")
            o.ring = false;
        else if (a == "--no-rt")
            o.rt = false;
        else if (a == "--timelines")
            timeline_dir = value(i);
        else if (a == "-h" || a == "--help")
            usage(0);
        else {
            std::fprintf(stderr, "coaudio_bench: unknown argument '%s'\n", a.c_str());
            usage(2);
        }
    }
    if (o.json.empty()) o.json = o.out / "results.json";
    if (o.jackd.empty() != o.jack_lsp.empty()) {
        std::fputs("coaudio_bench: --jackd and --jack-lsp go together\n", stderr);
        usage(2);
    }
    return o;
}

[[gnu::format(printf, 1, 2)]] void say(const char* fmt, ...)
{
    std::va_list args;
    va_start(args, fmt);
    std::fputs("bench: ", stderr);
    std::vfprintf(stderr, fmt, args);
    std::fputc('\n', stderr);
    va_end(args);
}

bool selected(const options& o, const std::string& key)
{
    return listed(o.only, key);
}
bool selected(const options& o, variant_kind k)
{
    return selected(o, variant_key(k));
}

int warmup_for(int blocks)
{
    return std::max(20, blocks / 16);
}

// ---- statistics ---------------------------------------------------------------

/// Nearest-rank percentile of unsorted data; NaN when empty.
double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return no_figure;
    std::sort(v.begin(), v.end());
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct figures {
    double lat_p50 = no_figure, lat_p99 = no_figure, lat_p999 = no_figure, lat_max = no_figure;
    double entry_p50 = no_figure, entry_p99 = no_figure;
    double cost_p50 = no_figure, cost_p99 = no_figure, cost_max = no_figure;
    double cpu = no_figure, io_cpu = no_figure;
    double audio_allocs = no_figure, audio_locks = no_figure, io_allocs = no_figure,
           io_locks = no_figure;
    double lost = 0, dropped = 0, xruns = 0, timeouts = 0;
    /// Blocks that reached the consumer more than `late_us` after they were
    /// published, and blocks measured: summed over repetitions. A p99.9 of a
    /// few thousand blocks is one of their few worst, so it says whether a
    /// stall of the machine fell into the run; how many blocks were late says
    /// how often they fall, and compares variants over the same time.
    double late = 0, measured = 0;
};

constexpr double late_us = 300;

// clang-format 14 reflows this list differently on each pass.
// clang-format off
#define COAUDIO_BENCH_FIGURES(X)                                                      \
    X(lat_p50) X(lat_p99) X(lat_p999) X(lat_max) X(entry_p50) X(entry_p99)            \
    X(cost_p50) X(cost_p99) X(cost_max) X(cpu) X(io_cpu)                              \
    X(audio_allocs) X(audio_locks) X(io_allocs) X(io_locks)
// clang-format on

figures figures_of(const run_record& r)
{
    figures f;
    f.lat_p50 = percentile(r.latency_us, 50);
    f.lat_p99 = percentile(r.latency_us, 99);
    f.lat_p999 = percentile(r.latency_us, 99.9);
    f.lat_max = percentile(r.latency_us, 100);
    f.entry_p50 = percentile(r.entry_latency_us, 50);
    f.entry_p99 = percentile(r.entry_latency_us, 99);
    f.cost_p50 = percentile(r.cost_us, 50);
    f.cost_p99 = percentile(r.cost_us, 99);
    f.cost_max = percentile(r.cost_us, 100);
    f.cpu = r.cpu_ms_per_s;
    f.io_cpu = r.io_cpu_ms_per_s;
    f.audio_allocs = r.audio_allocs_per_s;
    f.audio_locks = r.audio_locks_per_s;
    f.io_allocs = r.io_allocs_per_s;
    f.io_locks = r.io_locks_per_s;
    f.lost = static_cast<double>(r.blocks_lost);
    f.dropped = static_cast<double>(r.frames_dropped);
    f.xruns = static_cast<double>(r.xruns);
    f.timeouts = r.timed_out ? 1 : 0;
    f.late = static_cast<double>(std::count_if(r.latency_us.begin(), r.latency_us.end(),
                                               [](double l) { return l > late_us; }));
    f.measured = static_cast<double>(r.latency_us.size());
    return f;
}

/// Medians across repetitions; losses are summed.
figures combine(const std::vector<figures>& reps)
{
    figures m;
#define COAUDIO_BENCH_MEDIAN(field)                                                                \
  {                                                                                                \
    std::vector<double> v;                                                                         \
    for (const auto& f : reps)                                                                     \
      v.push_back(f.field);                                                                        \
    m.field = median(v);                                                                           \
  }
    COAUDIO_BENCH_FIGURES(COAUDIO_BENCH_MEDIAN)
#undef COAUDIO_BENCH_MEDIAN
    for (const auto& f : reps) {
        m.lost += f.lost;
        m.dropped += f.dropped;
        m.xruns += f.xruns;
        m.timeouts += f.timeouts;
        m.late += f.late;
        m.measured += f.measured;
    }
    return m;
}

// ---- ring throughput ------------------------------------------------------------

inline void cpu_relax() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Backs off from a busy wait: spin briefly, then give the core away (two cores
// shared with other work: a spinning thread must not starve its partner).
struct backoff {
    int spins = 0;
    void operator()() noexcept
    {
        if (++spins < 64)
            cpu_relax();
        else {
            spins = 0;
            sched_yield();
        }
    }
};

constexpr std::size_t ring_frame_bytes = sizeof(float); // mono float32

/// Where the frames come from and go to. `stream`: one large source buffer
/// copied into one large destination (the same bytes from the same place to
/// the same place, whichever way they travel). `hot`: a chunk-sized source
/// and destination reused for every chunk, so everything stays in cache.
enum class ring_mode { stream, hot };

struct ring_buffers {
    std::vector<float> src, dst;
    explicit ring_buffers(std::size_t frames)
        : src(frames, 0.5f), dst(frames, 0.0f) {} // touched: no page faults
};

/// Frames per second through a frame_ring of `ring_frames` frames, moved in
/// chunks of `chunk` frames by a producer thread and a consumer thread.
double ring_rate(ring_mode mode, std::size_t chunk, ring_buffers& b)
{
    const std::uint64_t total = b.src.size();
    coaudio::frame_ring ring(ring_frames, ring_frame_bytes);
    std::atomic<int> ready{0};
    std::thread producer([&] {
        ready.fetch_add(1);
        while (ready.load() < 2)
            cpu_relax();
        std::uint64_t sent = 0;
        backoff wait;
        while (sent < total) {
            const float* from = mode == ring_mode::stream ? b.src.data() + sent : b.src.data();
            const std::size_t n = ring.write(
                from, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - sent)));
            if (n == 0) wait();
            sent += n;
        }
    });
    while (ready.load() < 1)
        cpu_relax();
    const std::int64_t t0 = now_ns();
    ready.fetch_add(1);
    std::uint64_t got = 0;
    backoff wait;
    while (got < total) {
        float* to = mode == ring_mode::stream ? b.dst.data() + got : b.dst.data();
        const std::size_t n =
            ring.read(to, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - got)));
        if (n == 0) wait();
        got += n;
    }
    const std::int64_t t1 = now_ns();
    producer.join();
    asm volatile("" ::"r"(b.dst.data()) : "memory");
    return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

/// Frames per second of plain memcpy of the same bytes in the same chunks,
/// on one thread: the limit. In `hot` mode the destination cycles through a
/// region the size of the ring, as the ring's storage does.
double memcpy_rate(ring_mode mode, std::size_t chunk, ring_buffers& b)
{
    const std::uint64_t total = b.src.size();
    const std::size_t mask = ring_frames - 1;
    const std::int64_t t0 = now_ns();
    for (std::uint64_t done = 0; done < total; done += chunk) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - done));
        if (mode == ring_mode::stream) {
            std::memcpy(b.dst.data() + done, b.src.data() + done, n * ring_frame_bytes);
        } else {
            const std::size_t at = static_cast<std::size_t>(done) & mask;
            const std::size_t first = std::min(n, ring_frames - at);
            std::memcpy(b.dst.data() + at, b.src.data(), first * ring_frame_bytes);
            if (first < n)
                std::memcpy(b.dst.data(), b.src.data() + first, (n - first) * ring_frame_bytes);
        }
        asm volatile("" ::"r"(b.dst.data()) : "memory");
    }
    const std::int64_t t1 = now_ns();
    return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

/// The same transfer through the simplest two-thread hand-off there is: two
/// chunk-sized slots (as much memory as the ring when the chunk is half of
/// it), a sequence number each way, the same back-off. No ring logic: what
/// moving these bytes between two cores costs here.
double handoff_rate(ring_mode mode, std::size_t chunk, ring_buffers& b)
{
    const std::uint64_t total = b.src.size();
    const std::uint64_t chunks = (total + chunk - 1) / chunk;
    std::vector<float> slots(2 * chunk);
    alignas(64) std::atomic<std::uint64_t> filled{0};  // chunks published by the producer
    alignas(64) std::atomic<std::uint64_t> emptied{0}; // chunks released by the consumer
    std::atomic<int> ready{0};
    auto size_of = [&](std::uint64_t i) {
        return static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - i * chunk));
    };
    std::thread producer([&] {
        ready.fetch_add(1);
        while (ready.load() < 2)
            cpu_relax();
        backoff wait;
        for (std::uint64_t i = 0; i < chunks; ++i) {
            while (i - emptied.load(std::memory_order_acquire) >= 2)
                wait();
            const float* from = mode == ring_mode::stream ? b.src.data() + i * chunk : b.src.data();
            std::memcpy(slots.data() + (i % 2) * chunk, from, size_of(i) * ring_frame_bytes);
            filled.store(i + 1, std::memory_order_release);
        }
    });
    while (ready.load() < 1)
        cpu_relax();
    const std::int64_t t0 = now_ns();
    ready.fetch_add(1);
    backoff wait;
    for (std::uint64_t i = 0; i < chunks; ++i) {
        while (filled.load(std::memory_order_acquire) <= i)
            wait();
        float* to = mode == ring_mode::stream ? b.dst.data() + i * chunk : b.dst.data();
        std::memcpy(to, slots.data() + (i % 2) * chunk, size_of(i) * ring_frame_bytes);
        emptied.store(i + 1, std::memory_order_release);
    }
    const std::int64_t t1 = now_ns();
    producer.join();
    asm volatile("" ::"r"(b.dst.data()) : "memory");
    return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

/// The ring's own cost, without a second core: one thread writes a chunk
/// and reads it back, so every byte is copied twice and never leaves the core.
double ring_one_thread_rate(ring_mode mode, std::size_t chunk, ring_buffers& b)
{
    const std::uint64_t total = b.src.size();
    coaudio::frame_ring ring(ring_frames, ring_frame_bytes);
    const std::int64_t t0 = now_ns();
    for (std::uint64_t done = 0; done < total;) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - done));
        const float* from = mode == ring_mode::stream ? b.src.data() + done : b.src.data();
        float* to = mode == ring_mode::stream ? b.dst.data() + done : b.dst.data();
        const std::size_t w = ring.write(from, n);
        done += ring.read(to, w);
    }
    const std::int64_t t1 = now_ns();
    asm volatile("" ::"r"(b.dst.data()) : "memory");
    return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

struct ring_figures {
    ring_mode mode;
    std::size_t chunk;
    // frames per second, one per repetition
    std::vector<double> ring, copy, handoff, one_thread;
};

const char* ring_mode_name(ring_mode m)
{
    return m == ring_mode::stream ? "stream" : "hot";
}

/// One repetition: each measurement three times, the four kinds alternating,
/// keeping the median of each.
void measure_ring(ring_figures& rf, ring_buffers& b)
{
    std::vector<double> r, c, h, o;
    for (int i = 0; i < 3; ++i) {
        r.push_back(ring_rate(rf.mode, rf.chunk, b));
        c.push_back(memcpy_rate(rf.mode, rf.chunk, b));
        h.push_back(handoff_rate(rf.mode, rf.chunk, b));
        o.push_back(ring_one_thread_rate(rf.mode, rf.chunk, b));
    }
    rf.ring.push_back(median(r));
    rf.copy.push_back(median(c));
    rf.handoff.push_back(median(h));
    rf.one_thread.push_back(median(o));
}

// ---- instructions per callback (callgrind) ---------------------------------------

constexpr std::array synthetic_variants{variant_kind::coaudio,        variant_kind::asio_post,
                                        variant_kind::asio_post_bare, variant_kind::condvar,
                                        variant_kind::eventfd_floor,  variant_kind::futex_floor,
                                        variant_kind::asio_floor};
constexpr std::array jack_variants{variant_kind::coaudio,   variant_kind::coaudio_native,
                                   variant_kind::asio_post, variant_kind::asio_post_bare,
                                   variant_kind::condvar,   variant_kind::pa_blocking};
constexpr std::array block_sizes{64, 256};
constexpr int instr_blocks = 150, instr_warmup = 50;

/// The child run under callgrind: every synthetic variant twice, collecting
/// first only inside the callback body of measured blocks, then only on the
/// consumer thread over its measured window; one dump per run.
int instructions_child()
{
#if defined(COAUDIO_BENCH_HAVE_CALLGRIND)
    CALLGRIND_ZERO_STATS;
    for (int block : block_sizes) {
        for (variant_kind k : synthetic_variants) {
            for (collect_phase phase : {collect_phase::audio, collect_phase::consumer}) {
                callgrind_phase = phase;
                const run_record r =
                    run({k, driver_kind::synthetic, block, instr_blocks, instr_warmup, -1});
                callgrind_phase = collect_phase::none;
                const std::size_t n = phase == collect_phase::audio
                                          ? r.cost_us.size()
                                          : static_cast<std::size_t>(r.consumer_blocks);
                const std::string name =
                    std::string("ir ") + (phase == collect_phase::audio ? "audio " : "consumer ") +
                    variant_key(k) + " " + std::to_string(block) + " " + std::to_string(n);
                CALLGRIND_DUMP_STATS_AT(name.c_str());
            }
        }
    }
    return 0;
#else
    std::fputs("coaudio_bench: built without <valgrind/callgrind.h>\n", stderr);
    return 1;
#endif
}

/// key "audio|consumer variant block" -> instructions per callback / per block
using instruction_map = std::map<std::string, double>;

instruction_map count_instructions(const options& o)
{
    instruction_map result;
    const fs::path dir = o.out / "callgrind";
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    std::vector<std::string> args{o.valgrind,
                                  "--tool=callgrind",
                                  "--collect-atstart=no",
                                  "--fair-sched=yes",
                                  "--dump-instr=no",
                                  "--callgrind-out-file=" + (dir / "callgrind.out.%p").string(),
                                  "--log-file=" + (dir / "valgrind.log").string(),
                                  self,
                                  "--instructions-child"};
    say("instructions per callback and per consumed block: %s --tool=callgrind (about 20 s)",
        o.valgrind.c_str());
    if (!run_quietly(args, 240.0)) {
        say("callgrind run failed; see %s", (dir / "valgrind.log").c_str());
        return result;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().rfind("callgrind.out.", 0) != 0) continue;
        std::ifstream in(entry.path());
        std::string line, side, variant, block;
        double measured = 0, total = -1;
        while (std::getline(in, line)) {
            const std::string trigger = "desc: Trigger: Client Request: ir ";
            if (line.rfind(trigger, 0) == 0) {
                std::istringstream s(line.substr(trigger.size()));
                s >> side >> variant >> block >> measured;
            } else if (line.rfind("totals:", 0) == 0 || line.rfind("summary:", 0) == 0) {
                total = std::strtod(line.c_str() + line.find(':') + 1, nullptr);
            }
        }
        if (!variant.empty() && measured > 0 && total >= 0)
            result[side + " " + variant + " " + block] = total / measured;
    }
    return result;
}

// ---- output -------------------------------------------------------------------------

struct group_key {
    driver_kind driver;
    int block;
    variant_kind kind;
    auto operator<=>(const group_key&) const = default;
};

/// Two significant-ish decimals for small figures, none for large ones.
std::string fmt_auto(double v)
{
    if (std::isnan(v)) return "–";
    const double a = std::fabs(v);
    return fmt(v, a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

std::string json_number(double v)
{
    if (std::isnan(v) || std::isinf(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string figures_json(const figures& f)
{
    std::ostringstream s;
    s << "{\"latency_us\": {\"p50\": " << json_number(f.lat_p50)
      << ", \"p99\": " << json_number(f.lat_p99) << ", \"p99_9\": " << json_number(f.lat_p999)
      << ", \"max\": " << json_number(f.lat_max) << ", \"late_over_us\": " << json_number(late_us)
      << ", \"blocks_late\": " << json_number(f.late) << ", \"blocks\": " << json_number(f.measured)
      << "}"
      << ", \"latency_from_callback_entry_us\": {\"p50\": " << json_number(f.entry_p50)
      << ", \"p99\": " << json_number(f.entry_p99) << "}"
      << ", \"callback_us\": {\"median\": " << json_number(f.cost_p50)
      << ", \"p99\": " << json_number(f.cost_p99) << ", \"max\": " << json_number(f.cost_max) << "}"
      << ", \"cpu_ms_per_audio_s\": " << json_number(f.cpu)
      << ", \"consumer_thread_cpu_ms_per_audio_s\": " << json_number(f.io_cpu)
      << ", \"audio_thread\": {\"allocs_per_s\": " << json_number(f.audio_allocs)
      << ", \"locks_per_s\": " << json_number(f.audio_locks) << "}"
      << ", \"io_thread\": {\"allocs_per_s\": " << json_number(f.io_allocs)
      << ", \"locks_per_s\": " << json_number(f.io_locks) << "}"
      << ", \"blocks_lost\": " << json_number(f.lost)
      << ", \"frames_dropped\": " << json_number(f.dropped)
      << ", \"xruns\": " << json_number(f.xruns) << ", \"timeouts\": " << json_number(f.timeouts)
      << "}";
    return s.str();
}

struct target {
    std::string id, run, measured;
    bool holds;
};

std::string read_first_line(const char* path, const char* prefix)
{
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        if (prefix == nullptr || line.rfind(prefix, 0) == 0) return line;
    return {};
}

std::string cpu_model()
{
    std::string line = read_first_line("/proc/cpuinfo", "model name");
    const auto colon = line.find(':');
    return colon == std::string::npos ? "unknown" : line.substr(colon + 2);
}

std::string load_average()
{
    std::string l = read_first_line("/proc/loadavg", nullptr);
    std::istringstream s(l);
    std::string a, b, c;
    s >> a >> b >> c;
    return a + " " + b + " " + c;
}

} // namespace
} // namespace bench

int main(int argc, char** argv)
{
    using namespace bench;
    const options o = parse(argc, argv);
    if (!o.rt) synthetic_rt_priority = 0;
    if (o.instructions_child) return instructions_child();

    ::setenv("JACK_NO_START_SERVER", "1", 1); // PortAudio must never start a server of its own
    std::error_code ec;
    fs::create_directories(o.out, ec);

    // The counters must be live, or every zero in the table would be a lie.
    {
        const op_counts before = thread_counts();
        void* volatile p = std::malloc(16);
        std::free(p);
        std::mutex m;
        m.lock();
        m.unlock();
        const op_counts d = thread_counts() - before;
        if (!interposer_active() || d.allocs < 1 || d.locks < 1) {
            std::fputs("coaudio_bench: the allocation/lock interposer is not active\n", stderr);
            return 1;
        }
    }

    const std::string load_before = load_average();
    const std::int64_t wall0 = now_ns();
    say("%d repetitions; blocks per run: %d at 64 frames, %d at 256 frames; JACK %s; callgrind %s",
        o.reps, o.blocks64, o.blocks256, o.jackd.empty() ? "off" : "on",
        o.valgrind.empty() ? "off" : "on");

    instruction_map instructions;
    if (!o.valgrind.empty()) instructions = count_instructions(o);

    std::map<group_key, std::vector<figures>> per_rep;
    std::map<group_key, std::string> notes;
    std::vector<ring_figures> ring{{ring_mode::stream, 4096, {}, {}, {}, {}},
                                   {ring_mode::stream, 256, {}, {}, {}, {}},
                                   {ring_mode::hot, 4096, {}, {}, {}, {}},
                                   {ring_mode::hot, 256, {}, {}, {}, {}}};
    ring_buffers ring_data(
        o.ring && selected(o, "ring") ? static_cast<std::size_t>(o.ring_frames_total) : 0);
    bool jack_ok = !o.jackd.empty();
    bool any_failed = false;

    auto record = [&](const run_record& r) {
        const group_key key{r.request.driver, r.request.block, r.request.kind};
        if (!r.note.empty()) notes[key] = r.note;
        if (r.note.empty() || !r.cost_us.empty() || !std::isnan(r.cpu_ms_per_s))
            per_rep[key].push_back(figures_of(r));
        else
            any_failed = true;
        const figures f = figures_of(r);
        say("  %-9s %3d %-30s p50 %7s p99 %7s us  cb %6s us  cpu %6s ms/s%s%s",
            driver_name(r.request.driver), r.request.block, variant_label(r.request.kind),
            fmt(f.lat_p50, 1).c_str(), fmt(f.lat_p99, 1).c_str(), fmt(f.cost_p50, 2).c_str(),
            fmt(f.cpu, 2).c_str(), r.timed_out ? "  TIMED OUT" : "",
            r.note.empty() ? "" : ("  (" + r.note + ")").c_str());
    };

    for (int rep = 0; rep < o.reps; ++rep) {
        say("repetition %d of %d", rep + 1, o.reps);
        if (o.ring && selected(o, "ring"))
            for (auto& rf : ring)
                measure_ring(rf, ring_data); // interleaved with its baseline
        for (int block : block_sizes) {
            const int blocks = block == 64 ? o.blocks64 : o.blocks256;
            for (std::size_t i = 0; i < synthetic_variants.size(); ++i) {
                const variant_kind k = synthetic_variants[(i + static_cast<std::size_t>(rep)) %
                                                          synthetic_variants.size()];
                if (!selected(o, k)) continue;
                record(run({k, driver_kind::synthetic, block, blocks, warmup_for(blocks), -1}));
            }
        }
        if (!jack_ok || o.smoke) continue;
        for (int block : block_sizes) {
            const int blocks = block == 64 ? o.blocks64 : o.blocks256;
            jack_server server(o.jackd, o.jack_lsp, o.out, block);
            if (!server.start()) {
                say("JACK server %s did not start; see %s/jackd-%d.log; skipping the JACK runs "
                    "(\"Too many servers "
                    "already active\" there means JACK's registry in /dev/shm is full of killed "
                    "servers: run.sh "
                    "avoids it with a private /dev/shm when run as root)",
                    server.name().c_str(), o.out.c_str(), block);
                jack_ok = false;
                any_failed = true;
                break;
            }
            {
                std::error_code lib_ec;
                coaudio::library lib(
                    lib_ec); // Pa_Initialize now, with this server's name in the environment
                const int device = lib_ec ? -1 : jack_device();
                if (device < 0) {
                    say("PortAudio sees no JACK device on %s; skipping the JACK runs",
                        server.name().c_str());
                    jack_ok = false;
                    any_failed = true;
                } else {
                    for (std::size_t i = 0; i < jack_variants.size(); ++i) {
                        const variant_kind k = jack_variants[(i + static_cast<std::size_t>(rep)) %
                                                             jack_variants.size()];
                        if (!selected(o, k)) continue;
                        record(
                            run({k, driver_kind::jack, block, blocks, warmup_for(blocks), device}));
                    }
                }
            } // Pa_Terminate: PortAudio's JACK client leaves before the server stops
            server.stop();
            if (!jack_ok) break;
        }
    }

    // ---- aggregate ----
    std::map<group_key, figures> med;
    for (const auto& [key, reps] : per_rep)
        med[key] = combine(reps);
    auto find = [&](driver_kind d, int block, variant_kind k) -> const figures* {
        auto it = med.find({d, block, k});
        return it == med.end() ? nullptr : &it->second;
    };
    auto instr_of = [&](const char* side, variant_kind k, int block) {
        auto it = instructions.find(std::string(side) + " " + variant_key(k) + " " +
                                    std::to_string(block));
        return it == instructions.end() ? no_figure : it->second;
    };
    auto instr = [&](variant_kind k, int block) { return instr_of("audio", k, block); };
    auto consumer_instr = [&](variant_kind k, int block) { return instr_of("consumer", k, block); };

    std::vector<target> targets;
    for (driver_kind d : {driver_kind::synthetic, driver_kind::jack}) {
        for (int block : block_sizes) {
            const figures* co = find(d, block, variant_kind::coaudio);
            if (co == nullptr) continue;
            const figures* fl = find(driver_kind::synthetic, block, variant_kind::eventfd_floor);
            const std::string run = std::string(driver_name(d)) + " " + std::to_string(block);
            if (d == driver_kind::synthetic && fl != nullptr)
                targets.push_back({"p99 latency within 1.5x of the eventfd floor", run,
                                   fmt(co->lat_p99, 1) + " vs 1.5 x " + fmt(fl->lat_p99, 1) +
                                       " = " + fmt(1.5 * fl->lat_p99, 1) + " us (" +
                                       fmt(co->lat_p99 / fl->lat_p99, 2) + "x)",
                                   co->lat_p99 <= 1.5 * fl->lat_p99});
            // coaudio against each of the alternatives a user would write.
            std::vector<std::pair<variant_kind, const figures*>> rivals;
            for (variant_kind k :
                 {variant_kind::asio_post, variant_kind::asio_post_bare, variant_kind::condvar})
                if (const figures* f = find(d, block, k)) rivals.emplace_back(k, f);
            if (!rivals.empty()) {
                auto compare = [&](const char* what, auto value, int decimals, const char* unit,
                                   bool or_equal) {
                    std::string measured = fmt(value(*co), decimals) + " vs";
                    bool holds = true;
                    for (const auto& [k, f] : rivals) {
                        measured += std::string(" ") + fmt(value(*f), decimals) + " (" +
                                    variant_label(k) + ")";
                        holds =
                            holds && (or_equal ? value(*co) <= value(*f) : value(*co) < value(*f));
                    }
                    targets.push_back({what, run, measured + " " + unit, holds});
                };
                compare(
                    "p99 latency below naive asio::post and mutex+condvar",
                    [](const figures& f) { return f.lat_p99; }, 1, "us", false);
                compare(
                    "callback time (median) below naive asio::post and mutex+condvar",
                    [](const figures& f) { return f.cost_p50; }, 2, "us", false);
                if (d == driver_kind::synthetic) {
                    bool all = !std::isnan(instr(variant_kind::coaudio, block));
                    std::string measured = fmt(instr(variant_kind::coaudio, block), 0) + " vs";
                    bool holds = all;
                    for (const auto& [k, f] : rivals) {
                        const double v = instr(k, block);
                        all = all && !std::isnan(v);
                        measured += std::string(" ") + fmt(v, 0) + " (" + variant_label(k) + ")";
                        holds = holds && instr(variant_kind::coaudio, block) < v;
                    }
                    if (all)
                        targets.push_back(
                            {"instructions per callback below naive asio::post and mutex+condvar",
                             run, measured, holds});
                }
            }
            if (const figures* cv = find(d, block, variant_kind::condvar))
                targets.push_back({"CPU per audio second no more than mutex+condvar", run,
                                   fmt(co->cpu, 2) + " vs " + fmt(cv->cpu, 2) + " ms/s (" +
                                       fmt(co->cpu / cv->cpu, 2) + "x)",
                                   co->cpu <= cv->cpu});
            // Zero is exact: any allocation or lock in any repetition shows as non-zero.
            double a = 0, l = 0;
            for (const auto& f : per_rep[{d, block, variant_kind::coaudio}]) {
                a += std::isnan(f.audio_allocs) ? 0 : f.audio_allocs;
                l += std::isnan(f.audio_locks) ? 0 : f.audio_locks;
            }
            targets.push_back({"zero allocations and zero locks on the audio thread", run,
                               fmt(a, 0) + " allocs/s, " + fmt(l, 0) + " locks/s",
                               a == 0 && l == 0});
        }
    }
    for (const auto& rf : ring) {
        const double r = median(rf.ring), c = median(rf.copy);
        if (rf.chunk == 4096 && !rf.ring.empty())
            targets.push_back(
                {"ring throughput at least half of memcpy",
                 std::string("bulk (4096-frame chunks), ") + ring_mode_name(rf.mode),
                 fmt(r / 1e6, 0) + " vs " + fmt(c / 1e6, 0) + " Mframes/s (" + fmt(r / c, 2) + "x)",
                 r >= 0.5 * c});
    }

    // ---- markdown ----
    const std::string load_after = load_average();
    const double wall_s = static_cast<double>(now_ns() - wall0) / 1e9;
    struct utsname un {};
    ::uname(&un);
    std::printf("### coaudio benchmarks\n\n");
    std::printf("%s, %u cores, Linux %s, %s; load average %s before, %s after; %.0f s.\n",
                cpu_model().c_str(), std::thread::hardware_concurrency(), un.release,
                Pa_GetVersionText(), load_before.c_str(), load_after.c_str(), wall_s);
    std::printf("48 kHz mono float32. Medians of %d interleaved repetitions; per run %d blocks of "
                "64 frames or %d "
                "of 256 (the first %d / %d not measured). Synthetic driver: %s thread, "
                "clock_nanosleep to absolute "
                "deadlines. JACK: private jackd --no-realtime, dummy driver, period = block.\n\n",
                o.reps, o.blocks64, o.blocks256, warmup_for(o.blocks64), warmup_for(o.blocks256),
                synthetic_rt_granted.load() ? "SCHED_FIFO" : "SCHED_OTHER");
    std::printf(
        "| driver | block | variant | latency p50 µs | p99 | p99.9 | max | blocks late > %g "
        "µs | callback median "
        "µs | callback max | "
        "instructions / callback | consumer instructions / block | CPU ms / audio s | "
        "audio thread allocs/s | audio locks/s | consumer "
        "allocs/s | consumer locks/s | lost (xruns) |\n",
        late_us);
    std::printf("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---"
                ":|---|\n");
    for (driver_kind d : {driver_kind::synthetic, driver_kind::jack}) {
        for (int block : block_sizes) {
            for (variant_kind k :
                 {variant_kind::coaudio, variant_kind::coaudio_native, variant_kind::asio_post,
                  variant_kind::asio_post_bare, variant_kind::condvar, variant_kind::pa_blocking,
                  variant_kind::eventfd_floor, variant_kind::futex_floor,
                  variant_kind::asio_floor}) {
                const figures* f = find(d, block, k);
                if (f == nullptr) continue;
                const double ir = d == driver_kind::synthetic ? instr(k, block) : no_figure;
                const double cir =
                    d == driver_kind::synthetic ? consumer_instr(k, block) : no_figure;
                std::string lost = fmt(f->lost + f->dropped / block, 0);
                if (f->xruns > 0) lost += " (" + fmt(f->xruns, 0) + ")";
                if (f->timeouts > 0) lost += " timeout";
                const std::string late = f->measured > 0
                                             ? fmt(f->late, 0) + " of " + fmt(f->measured, 0)
                                             : fmt(no_figure, 0);
                std::printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                            "| %s | %s | %s | %s |\n",
                            driver_name(d), block, variant_label(k), fmt(f->lat_p50, 1).c_str(),
                            fmt(f->lat_p99, 1).c_str(), fmt(f->lat_p999, 1).c_str(),
                            fmt(f->lat_max, 1).c_str(), late.c_str(), fmt(f->cost_p50, 2).c_str(),
                            fmt(f->cost_max, 1).c_str(), fmt(ir, 0).c_str(), fmt(cir, 0).c_str(),
                            fmt(f->cpu, 2).c_str(), fmt_auto(f->audio_allocs).c_str(),
                            fmt_auto(f->audio_locks).c_str(), fmt_auto(f->io_allocs).c_str(),
                            fmt_auto(f->io_locks).c_str(), lost.c_str());
            }
        }
    }
    std::printf("\n| ring data | chunk (frames) | SPSC ring, 2 threads (Mframes/s) | memcpy, 1 "
                "thread | ring / memcpy | "
                "two-slot hand-off, 2 threads | ring, 1 thread (write + read) "
                "|\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& rf : ring) {
        if (rf.ring.empty()) continue;
        const double r = median(rf.ring), c = median(rf.copy);
        std::printf("| %s | %zu | %s | %s | %s | %s | %s |\n", ring_mode_name(rf.mode), rf.chunk,
                    fmt(r / 1e6, 0).c_str(), fmt(c / 1e6, 0).c_str(), fmt(r / c, 2).c_str(),
                    fmt(median(rf.handoff) / 1e6, 0).c_str(),
                    fmt(median(rf.one_thread) / 1e6, 0).c_str());
    }
    std::printf("\n| target | run | measured | holds |\n|---|---|---|---|\n");
    for (const auto& t : targets)
        std::printf("| %s | %s | %s | %s |\n", t.id.c_str(), t.run.c_str(), t.measured.c_str(),
                    t.holds ? "yes" : "**no**");
    for (const auto& [key, note] : notes)
        std::printf("\nNote (%s %d %s): %s\n", driver_name(key.driver), key.block,
                    variant_label(key.kind), note.c_str());

    // ---- JSON ----
    std::ofstream js(o.json);
    js << "{\n  \"schema\": \"coaudio-bench/1\",\n";
    js << "  \"machine\": {\"cpu\": " << json_string(cpu_model())
       << ", \"cores\": " << std::thread::hardware_concurrency()
       << ", \"kernel\": " << json_string(un.release)
       << ", \"portaudio\": " << json_string(Pa_GetVersionText())
       << ", \"load_average_before\": " << json_string(load_before)
       << ", \"load_average_after\": " << json_string(load_after) << "},\n";
    js << "  \"config\": {\"sample_rate\": 48000, \"channels\": 1, \"format\": \"float32\", "
          "\"repetitions\": "
       << o.reps << ", \"blocks_per_run\": {\"64\": " << o.blocks64 << ", \"256\": " << o.blocks256
       << "}, \"warmup_blocks\": {\"64\": " << warmup_for(o.blocks64)
       << ", \"256\": " << warmup_for(o.blocks256) << "}, \"ring_frames\": " << ring_frames
       << ", \"quick\": " << (o.quick ? "true" : "false")
       << ", \"smoke\": " << (o.smoke ? "true" : "false") << ", \"synthetic_driver_policy\": \""
       << (synthetic_rt_granted.load() ? "SCHED_FIFO" : "SCHED_OTHER") << "\""
       << ", \"jack\": " << (jack_ok ? "true" : "false")
       << ", \"wall_seconds\": " << json_number(wall_s) << "},\n";
    js << "  \"results\": [";
    bool first = true;
    for (const auto& [key, reps] : per_rep) {
        js << (first ? "\n" : ",\n") << "    {\"driver\": \"" << driver_name(key.driver)
           << "\", \"block\": " << key.block << ", \"variant\": \"" << variant_key(key.kind)
           << "\", \"label\": " << json_string(variant_label(key.kind))
           << ",\n     \"instructions_per_callback\": "
           << json_number(key.driver == driver_kind::synthetic ? instr(key.kind, key.block)
                                                               : no_figure)
           << ", \"consumer_instructions_per_block\": "
           << json_number(key.driver == driver_kind::synthetic ? consumer_instr(key.kind, key.block)
                                                               : no_figure)
           << ",\n     \"median\": " << figures_json(med[key]) << ",\n     \"repetitions\": [";
        for (std::size_t i = 0; i < reps.size(); ++i)
            js << (i ? ",\n       " : "\n       ") << figures_json(reps[i]);
        js << "]}";
        first = false;
    }
    js << "\n  ],\n  \"ring_throughput\": [";
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const double r = median(ring[i].ring), c = median(ring[i].copy);
        js << (i ? ",\n" : "\n") << "    {\"data\": \"" << ring_mode_name(ring[i].mode)
           << "\", \"chunk_frames\": " << ring[i].chunk << ", \"frame_bytes\": " << ring_frame_bytes
           << ", \"ring_frames_per_s\": " << json_number(r)
           << ", \"memcpy_frames_per_s\": " << json_number(c)
           << ", \"ratio\": " << json_number(r / c) << ", \"ring_repetitions\": [";
        for (std::size_t j = 0; j < ring[i].ring.size(); ++j)
            js << (j ? ", " : "") << json_number(ring[i].ring[j]);
        js << "], \"memcpy_repetitions\": [";
        for (std::size_t j = 0; j < ring[i].copy.size(); ++j)
            js << (j ? ", " : "") << json_number(ring[i].copy[j]);
        js << "], \"two_slot_handoff_frames_per_s\": " << json_number(median(ring[i].handoff))
           << ", \"ring_one_thread_frames_per_s\": " << json_number(median(ring[i].one_thread))
           << "}";
    }
    js << "\n  ],\n  \"targets\": [";
    for (std::size_t i = 0; i < targets.size(); ++i)
        js << (i ? ",\n" : "\n") << "    {\"target\": " << json_string(targets[i].id)
           << ", \"run\": " << json_string(targets[i].run)
           << ", \"measured\": " << json_string(targets[i].measured)
           << ", \"holds\": " << (targets[i].holds ? "true" : "false") << "}";
    js << "\n  ]\n}\n";
    js.close();
    say("wrote %s", o.json.c_str());
    return any_failed ? 1 : 0;
}
