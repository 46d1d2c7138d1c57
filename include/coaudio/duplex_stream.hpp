// coaudio: full duplex as an Asio I/O object.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DUPLEX_STREAM_HPP
#define COAUDIO_DUPLEX_STREAM_HPP

#include <coaudio/detail/namespace.hpp>

#include <coaudio/detail/stream_base.hpp>

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE {

/// A full-duplex stream: input and output on one PortAudio stream and one
/// clock, with the read operations of `basic_input_stream` and the write
/// operations of `basic_output_stream`. One read and one write may be
/// outstanding at once, each parked on its own doorbell.
///
/// The callback captures and plays in the same call, so a frame read can be
/// written back with the lowest latency the host offers: the input latency
/// plus one block plus the output latency.
///
/// Construct from an executor or an execution context, optionally with a
/// configuration to open at once; movable (also to another executor type),
/// not copyable. Operations and control are documented on
/// `detail::stream_base`.
template <class Executor = asio::any_io_executor>
class basic_duplex_stream : public detail::stream_base<Executor, detail::direction::duplex> {
public:
    using detail::stream_base<Executor, detail::direction::duplex>::stream_base;

    /// Rebinds the stream type to another executor.
    template <class Executor1>
    struct rebind_executor {
        using other = basic_duplex_stream<Executor1>;
    };
};

/// A full-duplex stream on `asio::any_io_executor`.
using duplex_stream = basic_duplex_stream<>;

} // namespace coaudio

#endif
