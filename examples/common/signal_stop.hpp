// Shared by the examples: Ctrl-C, SIGTERM and SIGHUP cancel an operation.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_EXAMPLES_COMMON_SIGNAL_STOP_HPP
#define COAUDIO_EXAMPLES_COMMON_SIGNAL_STOP_HPP

#include <coaudio/coaudio.hpp>

#include <asio.hpp>
#ifdef COAUDIO_USE_BOOST_ASIO
#  include <boost/system/system_error.hpp>
#endif

#include <csignal>
#include <exception>
#include <system_error>

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

    asio::cancellation_slot slot()
    {
        return stop_.slot();
    }
    bool stopped() const noexcept
    {
        return stopped_;
    }

    // True when `e` is the operation_aborted that a signal caused, false for
    // any other outcome. Asio throws it as std::system_error on standalone Asio
    // and as boost::system::system_error (not a std::system_error) on Boost.Asio.
    bool caused(const std::exception_ptr& e) const
    {
        if (!stopped_ || !e) return false;
        const std::error_code aborted = coaudio::error_code(asio::error::operation_aborted);
        try {
            std::rethrow_exception(e);
        } catch (const std::system_error& x) {
            return x.code() == aborted;
#ifdef COAUDIO_USE_BOOST_ASIO
        } catch (const boost::system::system_error& x) {
            return std::error_code(x.code()) == aborted;
#endif
        } catch (...) {
            return false;
        }
    }
    void done()
    {
        signals_.cancel();
    }

private:
    asio::signal_set signals_;
    asio::cancellation_signal stop_;
    bool stopped_ = false;
};

} // namespace examples

#endif
