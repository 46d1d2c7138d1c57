// Test support: Asio's operation_aborted as the std::error_code tests store.
#ifndef COAUDIO_TESTS_SUPPORT_ABORTED_HPP
#define COAUDIO_TESTS_SUPPORT_ABORTED_HPP

#include <coaudio/coaudio.hpp>

#include <asio/error.hpp>

#include <system_error>

namespace test {

/// What a cancelled operation reports, as a std::error_code, on whichever Asio
/// the test is built on: a test keeps results as std::error_code, and Boost.Asio's
/// error enum compares only with boost::system::error_code, which converts to
/// std::error_code keeping its category.
inline std::error_code operation_aborted()
{
    return coaudio::error_code(asio::error::operation_aborted);
}

} // namespace test

#endif
