// coaudio: playback as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_OUTPUT_STREAM_HPP
#define COAUDIO_OUTPUT_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A playback stream: frames written as an Asio AsyncWriteStream, played
/// by a PortAudio output device.
///
/// Writes copy into a lock-free ring on the io_context and park when it is
/// full; the audio callback takes frames from the ring and rings a doorbell
/// when space frees while a writer is parked. When the writer falls behind
/// the callback plays silence and counts it (`counters().underflows`).
/// Writes may run ahead of `start()` to pre-fill the ring.
///
/// One write (or drain) may be outstanding at a time; a second completes
/// with `errc::operation_in_progress`.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Operations and control are documented on
/// `detail::stream_base`.
template <class Executor = asio::any_io_executor>
class basic_output_stream : public detail::stream_base<Executor, detail::direction::output> {
public:
    using detail::stream_base<Executor, detail::direction::output>::stream_base;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_output_stream<Executor1>;
    };
};

/// A playback stream on `asio::any_io_executor`.
using output_stream = basic_output_stream<>;

} // namespace coaudio

#endif
