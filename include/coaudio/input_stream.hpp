// coaudio: capture as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_INPUT_STREAM_HPP
#define COAUDIO_INPUT_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A capture stream: frames from a PortAudio input device, read as an Asio
/// AsyncReadStream.
///
/// The audio callback copies each block into a lock-free ring and, only
/// when a read is parked waiting, rings a doorbell that the io_context
/// watches. Reads drain the ring on the io_context; nothing of the caller's
/// runs on the audio thread. Frames lost because a reader fell behind are
/// counted (`counters()`) and reported with the first read after the gap
/// (`last_read()`, or `errc::input_overflow` with `overflow_is_error`).
///
/// One read may be outstanding at a time; a second completes with
/// `errc::operation_in_progress`.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Operations and control are documented on
/// `detail::stream_base`.
template <class Executor = asio::any_io_executor>
class basic_input_stream : public detail::stream_base<Executor, detail::direction::input> {
public:
    using detail::stream_base<Executor, detail::direction::input>::stream_base;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_input_stream<Executor1>;
    };
};

/// A capture stream on `asio::any_io_executor`.
using input_stream = basic_input_stream<>;

} // namespace coaudio

#endif
