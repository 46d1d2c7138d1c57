// coaudio benchmarks: per-thread counts of heap allocations and mutex locks.
// Distributed under the Boost Software License, Version 1.0.
//
// interpose.cpp defines malloc, calloc, realloc, aligned_alloc, posix_memalign,
// memalign, free and the pthread mutex/rwlock lock functions in the benchmark
// executable, so every call made by the program or by a shared library it
// loads (libstdc++'s operator new, PortAudio, libjack) lands there first. Each
// bumps a counter of the calling thread and forwards to the next definition
// (glibc's), found with dlsym(RTLD_NEXT). A thread reads its own counters;
// nothing is shared, so counting costs a thread-local increment.
#ifndef COAUDIO_BENCH_INTERPOSE_HPP
#define COAUDIO_BENCH_INTERPOSE_HPP

#include <cstdint>

namespace bench {

struct op_counts {
    std::uint64_t allocs =
        0; ///< malloc, calloc, realloc, aligned allocations (operator new included)
    std::uint64_t locks = 0; ///< pthread_mutex_lock/trylock/timedlock, pthread_rwlock_*lock

    friend op_counts operator-(const op_counts& a, const op_counts& b) noexcept
    {
        return {a.allocs - b.allocs, a.locks - b.locks};
    }
    op_counts& operator+=(const op_counts& o) noexcept
    {
        allocs += o.allocs;
        locks += o.locks;
        return *this;
    }
};

/// The calling thread's totals since it started.
op_counts thread_counts() noexcept;

/// True once the interposer has found glibc's functions: a self-check that
/// the counters are live (a build that bypassed them would report zeros).
bool interposer_active() noexcept;

} // namespace bench

#endif
