// coaudio benchmarks: the allocation and lock interposer (see interpose.hpp).
// Distributed under the Boost Software License, Version 1.0.
//
// Linked into the executable only. Defining these functions in the
// executable makes the dynamic linker bind every library's calls to them.
// glibc's own versions are looked up lazily with dlsym(RTLD_NEXT); while that
// lookup runs (dlsym may allocate) allocations come from a small static arena
// that is never handed back.
#include "interpose.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <dlfcn.h>
#include <pthread.h>

namespace {

// Plain integers with no constructor: in the executable they use the
// local-exec TLS model, a %fs-relative access that cannot allocate or recurse.
thread_local std::uint64_t tl_allocs = 0;
thread_local std::uint64_t tl_locks = 0;
thread_local bool tl_resolving = false;

using malloc_fn = void* (*)(std::size_t);
using calloc_fn = void* (*)(std::size_t, std::size_t);
using realloc_fn = void* (*)(void*, std::size_t);
using free_fn = void (*)(void*);
using aligned_alloc_fn = void* (*)(std::size_t, std::size_t);
using posix_memalign_fn = int (*)(void**, std::size_t, std::size_t);
using mutex_fn = int (*)(pthread_mutex_t*);
using timedlock_fn = int (*)(pthread_mutex_t*, const struct timespec*);
using rwlock_fn = int (*)(pthread_rwlock_t*);

std::atomic<malloc_fn> real_malloc{nullptr};
std::atomic<calloc_fn> real_calloc{nullptr};
std::atomic<realloc_fn> real_realloc{nullptr};
std::atomic<free_fn> real_free{nullptr};
std::atomic<aligned_alloc_fn> real_aligned_alloc{nullptr};
std::atomic<posix_memalign_fn> real_posix_memalign{nullptr};
std::atomic<aligned_alloc_fn> real_memalign{nullptr};
std::atomic<mutex_fn> real_mutex_lock{nullptr};
std::atomic<mutex_fn> real_mutex_trylock{nullptr};
std::atomic<timedlock_fn> real_mutex_timedlock{nullptr};
std::atomic<rwlock_fn> real_rwlock_rdlock{nullptr};
std::atomic<rwlock_fn> real_rwlock_wrlock{nullptr};
std::atomic<bool> resolved{false};

// ---- bootstrap arena: serves allocations made while dlsym runs -------------

constexpr std::size_t arena_bytes = 256 * 1024;
constexpr std::size_t header = 16; // keeps the size of each block, for realloc
alignas(64) unsigned char arena[arena_bytes];
std::atomic<std::size_t> arena_used{0};

bool in_arena(const void* p) noexcept
{
    const auto* b = static_cast<const unsigned char*>(p);
    return b >= arena && b < arena + arena_bytes;
}

void* arena_alloc(std::size_t n, std::size_t align = 16) noexcept
{
    if (align < 16) align = 16;
    std::size_t start = arena_used.load(std::memory_order_relaxed);
    for (;;) {
        std::size_t user = (start + header + align - 1) & ~(align - 1);
        const std::size_t end = user + n;
        if (end > arena_bytes) return nullptr;
        if (arena_used.compare_exchange_weak(start, end, std::memory_order_relaxed)) {
            std::memcpy(arena + user - sizeof(std::size_t), &n, sizeof n);
            return arena + user; // the arena is zero-initialised and never reused: calloc-clean
        }
    }
}

std::size_t arena_size(const void* p) noexcept
{
    std::size_t n;
    std::memcpy(&n, static_cast<const unsigned char*>(p) - sizeof n, sizeof n);
    return n;
}

template <class Fn>
void lookup(std::atomic<Fn>& slot, const char* name) noexcept
{
    if (slot.load(std::memory_order_acquire) == nullptr)
        slot.store(reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name)), std::memory_order_release);
}

void resolve() noexcept
{
    if (tl_resolving) return; // re-entered from dlsym: the caller falls back to the arena
    tl_resolving = true;
    lookup(real_malloc, "malloc");
    lookup(real_calloc, "calloc");
    lookup(real_realloc, "realloc");
    lookup(real_free, "free");
    lookup(real_aligned_alloc, "aligned_alloc");
    lookup(real_posix_memalign, "posix_memalign");
    lookup(real_memalign, "memalign");
    lookup(real_mutex_lock, "pthread_mutex_lock");
    lookup(real_mutex_trylock, "pthread_mutex_trylock");
    lookup(real_mutex_timedlock, "pthread_mutex_timedlock");
    lookup(real_rwlock_rdlock, "pthread_rwlock_rdlock");
    lookup(real_rwlock_wrlock, "pthread_rwlock_wrlock");
    resolved.store(real_malloc.load() != nullptr && real_mutex_lock.load() != nullptr,
                   std::memory_order_release);
    tl_resolving = false;
}

template <class Fn>
Fn get(std::atomic<Fn>& slot) noexcept
{
    Fn f = slot.load(std::memory_order_acquire);
    if (f == nullptr) {
        resolve();
        f = slot.load(std::memory_order_acquire);
    }
    return f;
}

// Resolve before main so that the hot path never sees a null pointer.
[[gnu::constructor(101)]] void resolve_early() noexcept
{
    resolve();
}

} // namespace

namespace bench {

op_counts thread_counts() noexcept
{
    return {tl_allocs, tl_locks};
}

bool interposer_active() noexcept
{
    return resolved.load(std::memory_order_acquire);
}

} // namespace bench

extern "C" {

void* malloc(std::size_t n) noexcept
{
    ++tl_allocs;
    if (auto f = get(real_malloc)) return f(n);
    return arena_alloc(n);
}

void* calloc(std::size_t count, std::size_t size) noexcept
{
    ++tl_allocs;
    if (auto f = get(real_calloc)) return f(count, size);
    if (size != 0 && count > static_cast<std::size_t>(-1) / size) return nullptr;
    return arena_alloc(count * size);
}

void* realloc(void* p, std::size_t n) noexcept
{
    ++tl_allocs;
    if (p != nullptr && in_arena(p)) { // move a bootstrap block into the real heap
        void* q = malloc(n);
        if (q != nullptr) std::memcpy(q, p, std::min(n, arena_size(p)));
        return q;
    }
    if (auto f = get(real_realloc)) return f(p, n);
    return arena_alloc(n);
}

void free(void* p) noexcept
{
    if (p == nullptr || in_arena(p)) return;
    if (auto f = get(real_free)) f(p);
}

void* aligned_alloc(std::size_t align, std::size_t n) noexcept
{
    ++tl_allocs;
    if (auto f = get(real_aligned_alloc)) return f(align, n);
    return arena_alloc(n, align);
}

void* memalign(std::size_t align, std::size_t n) noexcept
{
    ++tl_allocs;
    if (auto f = get(real_memalign)) return f(align, n);
    return arena_alloc(n, align);
}

int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept
{
    ++tl_allocs;
    if (auto f = get(real_posix_memalign)) return f(out, align, n);
    *out = arena_alloc(n, align);
    return *out != nullptr ? 0 : ENOMEM;
}

int pthread_mutex_lock(pthread_mutex_t* m) noexcept
{
    ++tl_locks;
    return get(real_mutex_lock)(m);
}

int pthread_mutex_trylock(pthread_mutex_t* m) noexcept
{
    ++tl_locks;
    return get(real_mutex_trylock)(m);
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* t) noexcept
{
    ++tl_locks;
    return get(real_mutex_timedlock)(m, t);
}

int pthread_rwlock_rdlock(pthread_rwlock_t* l) noexcept
{
    ++tl_locks;
    return get(real_rwlock_rdlock)(l);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* l) noexcept
{
    ++tl_locks;
    return get(real_rwlock_wrlock)(l);
}

} // extern "C"
