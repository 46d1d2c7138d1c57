// coaudio tests: the audio thread's contract. While the driver thread runs
// thousands of callbacks for an input and an output stream, with coroutines
// parking and waking on the io thread (so the doorbell rings), it must not
// allocate, free or lock a mutex.
//
// The counting is done by interposers defined here, for the whole program but
// counting only on a thread that set the thread_local `probe::counting`:
//   - global operator new/delete, every form, and malloc, calloc, realloc, free,
//     aligned_alloc, posix_memalign, memalign, valloc, pvalloc, forwarded to
//     glibc's __libc_* entry points. Under ASan/TSan/MSan the runtime owns all
//     of these (Clang even links TSan's operator new whole-archive, so a
//     replacement does not link), and its malloc/free hooks count instead:
//     they see every allocation and free, operator new's included;
//   - pthread_mutex_lock and pthread_mutex_trylock, forwarded to the sanitizer's
//     interceptor when there is one (so TSan still sees the lock), else to the
//     next definition (dlsym RTLD_NEXT), resolved before anything is counted;
//   - write, likewise, to count the doorbell's rings (evidence that the wake-up
//     path ran on the audio thread, not only the no-waiter fast path).
// A positive control on the same thread proves that the interposers count.
// Distributed under the Boost Software License, Version 1.0.
#include <coaudio/capture_hub.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/output_stream.hpp>

#include "support/catch.hpp"
#include "support/run.hpp"

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <span>
#include <thread>
#include <tuple>
#include <vector>

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define COAUDIO_TEST_SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                       \
      __has_feature(memory_sanitizer)
#    define COAUDIO_TEST_SANITIZED 1
#  endif
#endif

// ---- the probe -----------------------------------------------------------------

namespace probe {

thread_local bool counting = false;

struct counts {
    std::uint64_t news = 0, deletes = 0, mallocs = 0, frees = 0, locks = 0, writes = 0;
};

std::atomic<std::uint64_t> news{0}, deletes{0}, mallocs{0}, frees{0}, locks{0}, writes{0};

counts snapshot() noexcept
{
    return {news.load(), deletes.load(), mallocs.load(), frees.load(), locks.load(), writes.load()};
}
counts since(const counts& a) noexcept
{
    const counts b = snapshot();
    return {b.news - a.news,   b.deletes - a.deletes, b.mallocs - a.mallocs,
            b.frees - a.frees, b.locks - a.locks,     b.writes - a.writes};
}

inline void note(std::atomic<std::uint64_t>& c) noexcept
{
    if (counting) c.fetch_add(1, std::memory_order_relaxed);
}

} // namespace probe

#if defined(COAUDIO_TEST_SANITIZED)

extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*,
                                                                  std::size_t),
                                                         void (*)(const volatile void*));

namespace probe {
void on_malloc(const volatile void*, std::size_t)
{
    note(mallocs);
}
void on_free(const volatile void* p)
{
    if (p != nullptr) note(frees);
}
const bool hooks_installed = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free) != 0;
} // namespace probe

#else

extern "C" {
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;
void __libc_free(void*) noexcept;
void* __libc_memalign(std::size_t, std::size_t) noexcept;
void* __libc_valloc(std::size_t) noexcept;
void* __libc_pvalloc(std::size_t) noexcept;
}

namespace probe {

constexpr bool hooks_installed = true; // nothing to install: the interposers count

void* new_or_throw(std::size_t n)
{
    note(news);
    if (void* p = __libc_malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* aligned(std::size_t n, std::align_val_t al) noexcept
{
    std::size_t a = static_cast<std::size_t>(al);
    if (a < sizeof(void*)) a = sizeof(void*);
    return __libc_memalign(a, n == 0 ? 1 : n);
}
void* new_aligned_or_throw(std::size_t n, std::align_val_t al)
{
    note(news);
    if (void* p = aligned(n, al)) return p;
    throw std::bad_alloc();
}
void* new_nothrow(std::size_t n) noexcept
{
    note(news);
    return __libc_malloc(n == 0 ? 1 : n);
}
void* new_aligned_nothrow(std::size_t n, std::align_val_t al) noexcept
{
    note(news);
    return aligned(n, al);
}
void del(void* p) noexcept
{
    if (p == nullptr) return;
    note(deletes);
    __libc_free(p);
}

} // namespace probe

// clang-format off
void* operator new(std::size_t n) { return probe::new_or_throw(n); }
void* operator new[](std::size_t n) { return probe::new_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return probe::new_nothrow(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return probe::new_nothrow(n); }
void* operator new(std::size_t n, std::align_val_t al) { return probe::new_aligned_or_throw(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return probe::new_aligned_or_throw(n, al); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return probe::new_aligned_nothrow(n, al); }
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return probe::new_aligned_nothrow(n, al); }
void operator delete(void* p) noexcept { probe::del(p); }
void operator delete[](void* p) noexcept { probe::del(p); }
void operator delete(void* p, std::size_t) noexcept { probe::del(p); }
void operator delete[](void* p, std::size_t) noexcept { probe::del(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { probe::del(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { probe::del(p); }
void operator delete(void* p, std::align_val_t) noexcept { probe::del(p); }
void operator delete[](void* p, std::align_val_t) noexcept { probe::del(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { probe::del(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { probe::del(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { probe::del(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { probe::del(p); }
// clang-format on

extern "C" {
void* malloc(std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept
{
    probe::note(probe::mallocs);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_realloc(p, n);
}
void free(void* p) noexcept
{
    if (p != nullptr) probe::note(probe::frees);
    __libc_free(p);
}
void* aligned_alloc(std::size_t align, std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_memalign(align, n);
}
void* memalign(std::size_t align, std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
    void* p = __libc_memalign(align, n);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
void* valloc(std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_valloc(n);
}
void* pvalloc(std::size_t n) noexcept
{
    probe::note(probe::mallocs);
    return __libc_pvalloc(n);
}
}
#endif

// The sanitizers' own interceptors, when linked in (weak: null otherwise).
extern "C" int __interceptor_pthread_mutex_lock(pthread_mutex_t*) __attribute__((weak));
extern "C" int __interceptor_pthread_mutex_trylock(pthread_mutex_t*) __attribute__((weak));
extern "C" ssize_t __interceptor_write(int, const void*, std::size_t) __attribute__((weak));

namespace probe {

using lock_fn = int (*)(pthread_mutex_t*);
using write_fn = ssize_t (*)(int, const void*, std::size_t);
std::atomic<lock_fn> real_lock{nullptr}, real_trylock{nullptr};
std::atomic<write_fn> real_write{nullptr};

template <class Fn>
Fn resolve(std::atomic<Fn>& slot, Fn interceptor, const char* name) noexcept
{
    Fn f = slot.load(std::memory_order_acquire);
    if (f == nullptr) {
        f = interceptor != nullptr ? interceptor : reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
        slot.store(f, std::memory_order_release);
    }
    return f;
}
lock_fn lock() noexcept
{
    return resolve(real_lock, &__interceptor_pthread_mutex_lock, "pthread_mutex_lock");
}
lock_fn trylock() noexcept
{
    return resolve(real_trylock, &__interceptor_pthread_mutex_trylock, "pthread_mutex_trylock");
}
write_fn write() noexcept
{
    return resolve(real_write, &__interceptor_write, "write");
}

// Resolves everything up front: dlsym may allocate, which must not happen
// while counting. True when every real function was found.
bool arm() noexcept
{
    return hooks_installed && lock() != nullptr && trylock() != nullptr && write() != nullptr;
}
const bool armed_at_startup = arm();

} // namespace probe

extern "C" int pthread_mutex_lock(pthread_mutex_t* m) noexcept
{
    probe::note(probe::locks);
    return probe::lock()(m);
}
extern "C" int pthread_mutex_trylock(pthread_mutex_t* m) noexcept
{
    probe::note(probe::locks);
    return probe::trylock()(m);
}
extern "C" ssize_t write(int fd, const void* buf, std::size_t n)
{
    probe::note(probe::writes);
    return probe::write()(fd, buf, n);
}

// ---- the streams -------------------------------------------------------------------

namespace {

namespace cd = coaudio::detail;
using namespace std::chrono_literals;
using sample = std::int32_t;

constexpr std::size_t block = 16;
#if defined(COAUDIO_TEST_SANITIZED)
constexpr std::uint64_t audited_blocks = 12'000;
constexpr unsigned max_spin_ns = 40'000;
#else
constexpr std::uint64_t audited_blocks = 20'000;
constexpr unsigned max_spin_ns = 20'000;
#endif

cd::stream_params make_params()
{
    cd::stream_params p;
    p.channels = 1;
    p.format = coaudio::sample_format::int32;
    p.sample_rate = 48000;
    p.frames_per_block = block;
    return p;
}

sample ramp(std::uint64_t frame)
{
    return static_cast<sample>(frame % 0x7FFFFFF0u + 1);
}

// What the driver thread found; read by the test after joining it.
struct driver_report {
    probe::counts audited, control;
    std::uint64_t callbacks = 0;
    std::uint64_t bad_frames = 0;
    bool completed = false; // ran all its phases (not stopped by the watchdog)
};

// A lockstep wait that allocates nothing and locks nothing; false if told to stop.
template <class Cond>
bool wait_until(Cond cond, const std::atomic<bool>& stop)
{
    while (!cond()) {
        if (stop.load(std::memory_order_relaxed)) return false;
        std::this_thread::yield();
    }
    return true;
}

// Busy-waits `ns` nanoseconds: long enough, most of the time, for the other
// side to have parked on the doorbell. No allocation, no lock (clock_gettime is a vDSO call).
void spin_for(unsigned ns)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
    while (std::chrono::steady_clock::now() < until) {
    }
}

void* volatile sink = nullptr;

// The positive control: the same probes, the same thread, things that do
// allocate and lock. If these are not seen, a zero above proves nothing.
probe::counts positive_control()
{
    const probe::counts before = probe::snapshot();
    probe::counting = true;
    {
        std::mutex m;
        m.lock();
        m.unlock();
        if (m.try_lock()) m.unlock();
        // Each allocation escapes through a volatile sink, so that the
        // compiler cannot elide the new/delete or malloc/free pair.
        auto p = std::make_unique<int>(42);
        sink = p.get();
        auto v = std::make_unique<std::uint64_t[]>(17);
        sink = v.get();
        void* q = std::malloc(24);
        sink = q;
        std::free(sink);
        const char c = 'x';
        [[maybe_unused]] auto n = ::write(-1, &c, 1); // EBADF, but counted
    }
    probe::counting = false;
    return probe::since(before);
}

void check_control(const probe::counts& c)
{
    INFO("control: new " << c.news << " delete " << c.deletes << " malloc " << c.mallocs << " free "
                         << c.frees << " locks " << c.locks << " writes " << c.writes);
    CHECK(c.locks >= 2); // lock and try_lock
    CHECK(c.writes >= 1);
#if defined(COAUDIO_TEST_SANITIZED)
    CHECK(c.mallocs >= 3); // the sanitizer's hooks see new, new[] and malloc alike
    CHECK(c.frees >= 3);
#else
    CHECK(c.news >= 2);
    CHECK(c.deletes >= 2);
    CHECK(c.mallocs >= 1);
    CHECK(c.frees >= 1);
#endif
}

void check_audited(const driver_report& r)
{
    const probe::counts& a = r.audited;
    INFO(r.callbacks << " callbacks: new " << a.news << " delete " << a.deletes << " malloc "
                     << a.mallocs << " free " << a.frees << " locks " << a.locks
                     << " doorbell writes " << a.writes);
    REQUIRE(r.completed);
    CHECK(r.callbacks >= 10'000);
    CHECK(a.news == 0);
    CHECK(a.deletes == 0);
    CHECK(a.mallocs == 0);
    CHECK(a.frees == 0);
    CHECK(a.locks == 0);
    // The doorbell rang for a good share of the callbacks: the wake-up path
    // itself was audited, not only the path with nobody waiting.
    CHECK(a.writes >= r.callbacks / 10);
    CHECK(r.bad_frames == 0);
}

// A started input stream whose callback a thread of the test calls (drive_input).
constexpr std::size_t input_ring = 256;
struct driven_input {
    asio::io_context io;
    coaudio::input_stream in{io.get_executor()};
    cd::stream_core* driver = nullptr;

    driven_input()
    {
        auto core =
            std::make_unique<cd::stream_core>(cd::direction::input, make_params(), input_ring);
        driver = core.get();
        coaudio::detail::core_access::open(in, std::move(core));
        in.start();
    }
};

// The audio thread of the input cases: blocks of the ramp in lockstep with
// the io side (which is then parked, or parking, on the doorbell), a flood
// that overflows the ring, and lockstep again, which publishes the gap.
// `total_frames` is set once the flood is over.
std::thread drive_input(cd::stream_core* driver, driver_report& report,
                        const std::atomic<bool>& stop, std::atomic<std::uint64_t>& total_frames)
{
    constexpr std::uint64_t flood = 2 * input_ring / block; // at least; overflows the ring
    constexpr std::uint64_t tail = 500;
    return std::thread([=, &report, &stop, &total_frames] {
        std::vector<sample> buf(block);
        std::uint64_t frame = 0;
        auto produce = [&] {
            for (std::size_t i = 0; i < block; ++i)
                buf[i] = ramp(frame + i);
            driver->process(buf.data(), nullptr, block,
                            (report.callbacks % 1000 == 999) ? paInputOverflow : 0);
            frame += block;
            ++report.callbacks;
        };
        auto ring_empty = [&] { return driver->ring().readable_from_producer() == 0; };
        std::minstd_rand rng(1);

        const probe::counts before = probe::snapshot();
        probe::counting = true;
        bool ok = true;
        // Lockstep: produce when the reader has taken everything, so it is
        // parked (or parking) on the doorbell when the block lands.
        for (std::uint64_t b = 0; ok && b < audited_blocks; ++b) {
            if ((ok = wait_until(ring_empty, stop))) {
                spin_for(rng() % max_spin_ns);
                produce();
            }
        }
        // Flood until frames are dropped (the reader falls behind): the drop
        // and pending-gap paths. Reading the counters is two relaxed loads.
        for (std::uint64_t b = 0;
             ok && b < 1'000'000 && (b < flood || driver->counters().frames_dropped == 0); ++b)
            produce();
        total_frames.store(frame + tail * block, std::memory_order_release);
        // Lockstep again: the first block that fits publishes the gap.
        for (std::uint64_t b = 0; ok && b < tail; ++b)
            if ((ok = wait_until(ring_empty, stop))) produce();
        probe::counting = false;
        report.audited = probe::since(before);
        report.completed = ok;
        report.control = positive_control();
    });
}

// A reader of the ramp: checks each frame, and counts the frames reported lost.
struct ramp_follower {
    std::atomic<std::uint64_t>& total;
    std::uint64_t next = 0, lost = 0, bad = 0;
    bool done = false;
};

// Reads `r` (a stream or a capture reader) in reads of `frames` until the
// ramp's total is known and reached, pausing once for `pause` after `pause_after` reads.
template <class Reader>
asio::awaitable<void> follow_ramp(Reader& r, ramp_follower& c, std::size_t frames,
                                  std::uint64_t pause_after = 0,
                                  std::chrono::milliseconds pause = 0ms)
{
    std::vector<sample> buf(frames); // one block per read: parks every block
    asio::steady_timer timer(co_await asio::this_coro::executor);
    // Until the total is known, more blocks are sure to come.
    for (std::uint64_t t, reads = 0;
         (t = c.total.load(std::memory_order_acquire)) == 0 || c.next < t; ++reads) {
        // Once the end is known, read what there is: a read that waits for
        // all its frames could wait for more than the ramp has left, since
        // reads end early at each gap and a reader of several blocks is then
        // not aligned to the end.
        const std::size_t got =
            t == 0 ? co_await r.async_read_frames(std::span(buf), asio::use_awaitable)
                   : co_await r.async_read_some(asio::buffer(buf), asio::use_awaitable) /
                         sizeof(sample);
        c.lost += r.last_read().frames_lost;
        c.next += r.last_read().frames_lost;
        for (std::size_t i = 0; i < got; ++i, ++c.next)
            if (buf[i] != ramp(c.next)) ++c.bad;
        if (reads == pause_after && pause.count() != 0) {
            timer.expires_after(pause);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }
    c.done = true;
}

} // namespace

TEST_CASE("audio thread: the probes are armed", "[contract]")
{
    REQUIRE(probe::armed_at_startup);
    REQUIRE(probe::arm());
    // Not counting on this thread: nothing moves.
    const probe::counts before = probe::snapshot();
    auto p = std::make_unique<int>(1);
    std::mutex m;
    m.lock();
    m.unlock();
    const probe::counts d = probe::since(before);
    CHECK(d.news == 0);
    CHECK(d.locks == 0);
}

TEST_CASE("audio thread: input callbacks neither allocate nor lock", "[contract][input]")
{
    REQUIRE(probe::arm());
    driven_input rig;
    asio::io_context& io = rig.io;
    coaudio::input_stream& in = rig.in;
    cd::stream_core* const driver = rig.driver;

    driver_report report;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> total_frames{0}; // known once the flood is over
    std::thread audio = drive_input(driver, report, stop, total_frames);

    ramp_follower c{total_frames};
    const bool finished = test::run_for(io, follow_ramp(in, c, block), 60s);
    stop = true;
    audio.join();

    INFO("reader at frame " << c.next << " of " << total_frames.load());
    REQUIRE(finished);
    CHECK(c.bad == 0);
    CHECK(c.lost > 0); // the drop path ran inside the audited section
    CHECK(c.lost == in.counters().frames_dropped);
    CHECK(in.counters().host_overflows > 0);
    check_audited(report);
    check_control(report.control);
}

TEST_CASE("audio thread: input callbacks neither allocate nor lock with several readers",
          "[contract][input][readers]")
{
    REQUIRE(probe::arm());
    driven_input rig;
    asio::io_context& io = rig.io;
    coaudio::input_stream& in = rig.in;
    cd::stream_core* const driver = rig.driver;
    // One reader a block at a time, one four, both with room to spare, and one with room for four
    // blocks that stops for a while and loses its own frames.
    coaudio::capture_hub hub(in);
    coaudio::capture_reader each = hub.make_reader(1 << 16);
    coaudio::capture_reader four = hub.make_reader(1 << 16);
    coaudio::capture_reader staller = hub.make_reader(4 * block);

    driver_report report;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> total_frames{0}; // known once the flood is over
    std::thread audio = drive_input(driver, report, stop, total_frames);

    ramp_follower a{total_frames}, b{total_frames}, c{total_frames};
    auto all = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(ex, follow_ramp(four, b, 4 * block), asio::detached);
        asio::co_spawn(ex, follow_ramp(staller, c, block, 100, 20ms), asio::detached);
        co_await follow_ramp(each, a, block);
        asio::steady_timer t(ex);
        while (!b.done || !c.done) {
            t.expires_after(1ms);
            co_await t.async_wait(asio::use_awaitable);
        }
    };
    const bool finished = test::run_for(io, all(), 60s);
    stop = true;
    audio.join();

    INFO("readers at frames " << a.next << ", " << b.next << ", " << c.next << " of "
                              << total_frames.load());
    REQUIRE(finished);
    for (const ramp_follower* f : {&a, &b, &c})
        CHECK(f->bad == 0);
    // The ring overflowed in the flood: each reader was told of it, exactly.
    CHECK(a.lost > 0);
    CHECK(a.lost == in.counters().frames_dropped);
    CHECK(b.lost == a.lost);
    // The staller lost more: the stream's loss and its own.
    CHECK(c.lost == a.lost + staller.counters().frames_dropped);
    CHECK(staller.counters().frames_dropped > 0);
    check_audited(report);
    check_control(report.control);
}

TEST_CASE("audio thread: output callbacks neither allocate nor lock", "[contract][output]")
{
    REQUIRE(probe::arm());
    constexpr std::size_t ring = 64;
    const std::uint64_t total_frames = audited_blocks * block;

    asio::io_context io;
    coaudio::output_stream out(io.get_executor());
    auto core = std::make_unique<cd::stream_core>(cd::direction::output, make_params(), ring);
    cd::stream_core* const driver = core.get();
    coaudio::detail::core_access::open(out, std::move(core));
    out.start();

    std::atomic<std::uint64_t> written{0};
    driver_report report;
    std::atomic<bool> stop{false};
    std::thread audio([&] {
        std::vector<sample> buf(block);
        std::uint64_t next = 0; // data frames pulled
        std::uint64_t silent = 0;
        auto pull = [&] {
            const int rc = driver->process(nullptr, buf.data(), block, 0);
            ++report.callbacks;
            for (std::size_t i = 0; i < block; ++i) {
                if (buf[i] == 0) {
                    ++silent;
                    continue;
                }
                if (buf[i] != ramp(next)) ++report.bad_frames;
                ++next;
            }
            return rc;
        };
        std::minstd_rand rng(2);
        auto ring_full = [&] {
            return driver->ring().writable_from_consumer() == 0 ||
                   written.load(std::memory_order_acquire) == total_frames;
        };

        const probe::counts before = probe::snapshot();
        probe::counting = true;
        bool ok = true;
        // Lockstep: pull when the writer has filled the ring, so it is parked
        // (or parking) on the doorbell when space frees.
        while (ok && written.load(std::memory_order_acquire) < total_frames)
            if ((ok = wait_until(ring_full, stop))) {
                spin_for(rng() % max_spin_ns);
                pull();
            }
        // Then play out what is queued, underflow (silence) until the writer's
        // drain request arrives, complete, and report the end as PortAudio would.
        for (int rc = paContinue; ok && rc != paComplete;) {
            rc = pull();
            ok = !stop.load(std::memory_order_relaxed);
        }
        if (ok) driver->finished();
        probe::counting = false;
        report.audited = probe::since(before);
        report.completed = ok && next == total_frames;
        report.control = positive_control();
    });

    struct ctx {
        coaudio::output_stream& out;
        std::atomic<std::uint64_t>& written;
        std::uint64_t total;
        std::error_code drained{};
    } c{out, written, total_frames};
    auto writer = [](ctx& c) -> asio::awaitable<void> {
        std::vector<sample> buf(block);
        for (std::uint64_t w = 0; w < c.total; w += block) {
            for (std::size_t i = 0; i < block; ++i)
                buf[i] = ramp(w + i);
            const std::size_t n = co_await c.out.async_write_frames(std::span<const sample>(buf),
                                                                    asio::use_awaitable);
            if (n != block) throw std::runtime_error("short write");
            c.written.store(w + block, std::memory_order_release);
        }
        std::tie(c.drained) = co_await c.out.async_drain(coaudio::as_tuple(asio::use_awaitable));
    };
    const bool finished = test::run_for(io, writer(c), 60s);
    stop = true;
    audio.join();

    REQUIRE(finished);
    CHECK_FALSE(c.drained);
    check_audited(report);
    check_control(report.control);
}
