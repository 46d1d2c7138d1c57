// Shared by the examples: Ctrl-C, SIGTERM and SIGHUP cancel an operation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_COMMON_SIGNAL_STOP_HPP
#define COAUDIO_EXAMPLES_COMMON_SIGNAL_STOP_HPP

#include <asio.hpp>

#include <csignal>

namespace examples {

// Bind an operation's handler to slot(): a signal emits a terminal
// cancellation on it (a playback stops at once, a recording keeps what it
// has). Call done() when the operation completes, so that io.run() can return.
class signal_stop {
public:
    explicit signal_stop(asio::io_context& io) : signals_(io, SIGINT, SIGTERM)
    {
#ifdef SIGHUP // not on Windows
        signals_.add(SIGHUP);
#endif
        signals_.async_wait([this](std::error_code e, int) {
            if (e) return;
            stopped_ = true;
            stop_.emit(asio::cancellation_type::terminal);
        });
    }
    signal_stop(const signal_stop&) = delete;
    signal_stop& operator=(const signal_stop&) = delete;

    asio::cancellation_slot slot() { return stop_.slot(); }
    bool stopped() const noexcept { return stopped_; }
    void done() { signals_.cancel(); }

private:
    asio::signal_set signals_;
    asio::cancellation_signal stop_;
    bool stopped_ = false;
};

} // namespace examples

#endif
