// coaudio: async audio I/O on Asio and PortAudio.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_CONFIG_HPP
#define COAUDIO_CONFIG_HPP

// The Asio in use, its version differences, coaudio::asio, coaudio::error_code,
// coaudio::deferred, coaudio::as_tuple and coaudio::default_token_t.
#include <coaudio/detail/asio_forward.hpp>

#define COAUDIO_VERSION_MAJOR 0
#define COAUDIO_VERSION_MINOR 1
#define COAUDIO_VERSION_PATCH 0

#endif
