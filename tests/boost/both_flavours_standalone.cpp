// The standalone-Asio half of both_flavours_test.cpp.
#include <coaudio/coaudio.hpp>

#include <asio/io_context.hpp>

#include <string>
#include <system_error>
#include <typeinfo>

namespace test {

std::string standalone_stream_type()
{
    return typeid(coaudio::output_stream).name();
}

std::string standalone_config_type()
{
    return typeid(coaudio::stream_config).name();
}

bool standalone_aborted_is_asios()
{
    return coaudio::detail::aborted() == std::error_code(asio::error::operation_aborted);
}

std::string standalone_stream_error()
{
    asio::io_context io;
    coaudio::output_stream out(io);
    std::error_code ec;
    const float one = 0;
    out.async_write_frames(std::span(&one, 1), [&](std::error_code e, std::size_t) { ec = e; });
    io.run();
    return ec.message();
}

} // namespace test
