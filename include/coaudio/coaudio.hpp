// coaudio: co_await-able audio capture and playback on Asio and PortAudio.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_COAUDIO_HPP
#define COAUDIO_COAUDIO_HPP

#include <coaudio/capture_hub.hpp>
#include <coaudio/config.hpp>
#include <coaudio/device.hpp>
#include <coaudio/duplex_stream.hpp>
#include <coaudio/error.hpp>
#include <coaudio/input_stream.hpp>
#include <coaudio/level.hpp>
#include <coaudio/library.hpp>
#include <coaudio/oneshot.hpp>
#include <coaudio/output_stream.hpp>
#include <coaudio/ring.hpp>
#include <coaudio/sample_format.hpp>
#include <coaudio/settings.hpp>
#include <coaudio/stream_config.hpp>
#include <coaudio/stream_status.hpp>
#include <coaudio/virtual_device.hpp>

#endif
