// coaudio: PortAudio initialisation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_LIBRARY_HPP
#define COAUDIO_LIBRARY_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/error.hpp>

#include <portaudio.h>

#include <cstddef>
#include <mutex>

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

// PortAudio's own initialisation counter is not thread-safe and its control
// calls (open, close, device queries) must not race Pa_Terminate. One mutex
// guards the control path; the audio path never touches it.
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

inline std::error_code acquire_library()
{
    std::lock_guard lock(control_mutex());
    if (init_count() == 0) {
        if (auto ec = pa_error(Pa_Initialize())) return ec;
    }
    ++init_count();
    return {};
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

inline void release_library() noexcept
{
    std::lock_guard lock(control_mutex());
    if (init_count() == 0 || --init_count() != 0) return;
    // With its JACK server gone, PortAudio stays initialised instead (what it
    // holds is freed when the process ends), and a later `library` finds it
    // still running: Pa_Initialize only counts up then, and does not rescan.
    if (jack_host_can_terminate()) Pa_Terminate();
}

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
    library() { detail::throw_if(detail::acquire_library(), "coaudio: Pa_Initialize"); }

    /// Initialises PortAudio if no other reference does; on failure `ec` is set
    /// and the object holds no reference.
    explicit library(std::error_code& ec)
    {
        ec = detail::acquire_library();
        held_ = !ec;
    }

    library(const library& other) : held_(other.held_)
    {
        if (held_) detail::throw_if(detail::acquire_library(), "coaudio: Pa_Initialize");
    }
    library(library&& other) noexcept : held_(other.held_) { other.held_ = false; }
    library& operator=(library other) noexcept
    {
        std::swap(held_, other.held_);
        return *this;
    }
    ~library()
    {
        if (held_) detail::release_library();
    }

    /// True when this object holds a reference (construction succeeded).
    bool initialized() const noexcept { return held_; }

    /// PortAudio's version text, e.g. "PortAudio V19.6.0-devel".
    static const char* portaudio_version() noexcept { return Pa_GetVersionText(); }

private:
    bool held_ = true;
};

} // namespace coaudio

#endif
