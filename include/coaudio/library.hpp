// coaudio: PortAudio initialisation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_LIBRARY_HPP
#define COAUDIO_LIBRARY_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/control_thread.hpp>
#include <coaudio/error.hpp>

#include <portaudio.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <new>
#include <optional>
#include <utility>

#if defined(__has_include)
#  if __has_include(<dlfcn.h>) && !defined(_WIN32)
#    include <dlfcn.h>
#    define COAUDIO_HAS_DLSYM 1
#  endif
#endif
#ifndef COAUDIO_HAS_DLSYM
#  define COAUDIO_HAS_DLSYM 0
#endif

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {
namespace detail {

// PortAudio's own initialisation counter is not thread-safe, and its calls
// must not race Pa_Initialize or Pa_Terminate. Those two, and every call
// that opens, starts, stops or closes a stream, run on the control thread
// (control_thread.hpp), one at a time; this mutex guards the count of
// references, and is never held across a PortAudio call. The audio path
// never touches it.
inline std::mutex& control_mutex() noexcept
{
    static std::mutex m;
    return m;
}

inline std::size_t& init_count() noexcept
{
    static std::size_t n = 0;
    return n;
}

/// How long PortAudio's set-up calls wait for it: taking the first reference
/// (Pa_Initialize) and handing back the last (Pa_Terminate), and opening a
/// stream or checking its settings (open_params.hpp, stream_open.hpp).
inline constexpr std::chrono::seconds setup_patience{10};

/// Counts one more reference if PortAudio is held already.
inline bool add_to_held_library()
{
    std::lock_guard lock(control_mutex());
    if (init_count() == 0) return false;
    ++init_count();
    return true;
}

inline void release_library() noexcept;

inline std::error_code acquire_library()
{
    if (add_to_held_library()) return {};
    // The first reference: PortAudio initialises on the control thread,
    // since its JACK host waits there for a frozen server as long as it
    // stays frozen. Another thread that finds no reference queues the same
    // call, which then only counts.
    std::optional<PaError> e;
    try {
        e = control_thread::value_of<PaError>(
            [] {
                if (add_to_held_library()) return PaError(paNoError);
                const PaError r = Pa_Initialize();
                if (r == paNoError) {
                    std::lock_guard lock(control_mutex());
                    ++init_count();
                }
                return r;
            },
            [](PaError r) {
                if (r == paNoError) release_library(); // the caller gave up: hand it back
            },
            setup_patience);
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    if (!e) return make_error_code(errc::host_not_responding);
    return pa_error(*e);
}

/// Whether PortAudio's JACK host may be terminated. Its JACK client, opened
/// when PortAudio starts, is deactivated by Pa_Terminate, and if the server
/// died while that client sat idle (no JACK-host stream running), the call
/// fails and PortAudio asserts: the program aborts on its way out. So when
/// the JACK host is there, ask its server first, through the libjack that
/// PortAudio loaded: a client that cannot connect means the server is gone.
/// Where libjack cannot be reached (no dlsym, or PortAudio loaded privately)
/// nothing can be learnt, and Pa_Terminate goes ahead as before.
inline bool jack_host_can_terminate() noexcept
{
#if COAUDIO_HAS_DLSYM
    if (Pa_HostApiTypeIdToHostApiIndex(paJACK) < 0) return true;
    using open_fn = void* (*)(const char*, int, int*, ...);
    using close_fn = int (*)(void*);
    const auto open = reinterpret_cast<open_fn>(::dlsym(RTLD_DEFAULT, "jack_client_open"));
    const auto close = reinterpret_cast<close_fn>(::dlsym(RTLD_DEFAULT, "jack_client_close"));
    if (open == nullptr || close == nullptr) return true;
    constexpr int jack_no_start_server = 0x01; // JackNoStartServer
    int status = 0;
    void* client = open("coaudio-exit", jack_no_start_server, &status);
    if (client == nullptr) return false;
    close(client);
#endif
    return true;
}

/// With the last reference gone, terminates PortAudio, unless its JACK host
/// cannot be (see above). On the control thread.
inline int terminate_unused_library() noexcept
{
    {
        std::lock_guard lock(control_mutex());
        if (init_count() != 0) return paNoError; // taken again meanwhile
    }
    // With its JACK server gone, PortAudio stays initialised instead (what it
    // holds is freed when the process ends), and a later `library` finds it
    // still running: Pa_Initialize only counts up then, and does not rescan.
    return jack_host_can_terminate() ? Pa_Terminate() : paNoError;
}

inline void release_library() noexcept
{
    control_thread::ticket t;
    {
        std::lock_guard lock(control_mutex());
        if (init_count() == 0 || --init_count() != 0) return;
        // Queued under the lock, so that a reference taken after this one
        // was given back initialises after it terminates. (On the control
        // thread, the calls are in order already.)
        if (!control_thread::here()) {
            try {
                t = control_thread::submit(&terminate_unused_library, true);
            } catch (const std::bad_alloc&) {
            }
        }
    }
    if (t)
        control_thread::wait(t, setup_patience);
    else
        terminate_unused_library(); // no memory to queue it: here, then
}

/// One reference to PortAudio's initialisation, held for as long as the
/// object lives: what `library`, the device queries and every stream keep.
/// Construction acquires; `error()` says whether that failed, and then
/// nothing is held.
class library_ref {
public:
    library_ref() : ec_(acquire_library()), held_(!ec_) {}
    /// Holds nothing.
    explicit library_ref(std::nullptr_t) noexcept {}

    library_ref(library_ref&& other) noexcept
        : ec_(other.ec_), held_(std::exchange(other.held_, false))
    {
    }
    library_ref& operator=(library_ref&& other) noexcept
    {
        if (this != &other) {
            reset();
            ec_ = other.ec_;
            held_ = std::exchange(other.held_, false);
        }
        return *this;
    }
    ~library_ref() { reset(); }

    /// Why the reference could not be taken; empty when it was.
    const std::error_code& error() const noexcept { return ec_; }
    bool held() const noexcept { return held_; }

    /// Hands the reference back now.
    void reset() noexcept
    {
        if (std::exchange(held_, false)) release_library();
    }

    /// Forgets the reference without handing it back: PortAudio stays
    /// initialised until the process ends. For a stream that PortAudio
    /// cannot be asked to close (see `stream_core::close`).
    void leak() noexcept { held_ = false; }

private:
    std::error_code ec_;
    bool held_ = false;
};

} // namespace detail

/// Keeps PortAudio initialised while at least one `library` (or stream) lives.
///
/// Reference counted and safe to create and destroy from several threads.
/// Streams hold their own reference, so an application needs a `library`
/// only to keep device enumeration stable between calls (each
/// Pa_Initialize rescans the devices) or to learn of an initialisation
/// failure early.
class library {
public:
    /// Initialises PortAudio if no other reference does. Throws `std::system_error`.
    library() { detail::throw_if(ref_.error(), "coaudio: Pa_Initialize"); }

    /// Initialises PortAudio if no other reference does; on failure `ec` is set
    /// and the object holds no reference.
    explicit library(std::error_code& ec) { ec = ref_.error(); }

    library(const library& other)
        : ref_(other.ref_.held() ? detail::library_ref() : detail::library_ref(nullptr))
    {
        detail::throw_if(ref_.error(), "coaudio: Pa_Initialize");
    }
    library(library&& other) noexcept = default;
    library& operator=(library other) noexcept
    {
        std::swap(ref_, other.ref_);
        return *this;
    }

    /// True when this object holds a reference (construction succeeded).
    bool initialized() const noexcept { return ref_.held(); }

    /// PortAudio's version text, e.g. "PortAudio V19.6.0-devel".
    static const char* portaudio_version() noexcept { return Pa_GetVersionText(); }

private:
    detail::library_ref ref_;
};

} // namespace coaudio

#endif
