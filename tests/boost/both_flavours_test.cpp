// One program, coaudio on both Asio flavours: this file is built on
// coaudio::coaudio-boost, both_flavours_standalone.cpp on coaudio::coaudio.
// The inline namespace keeps the two apart, so they do not break the
// one-definition rule and each half works on its own Asio.
#include <boost/asio/io_context.hpp>

#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"

#include <string>
#include <typeinfo>

namespace test {
std::string standalone_stream_type();
std::string standalone_config_type();
std::string standalone_stream_error(); // the error an unopened stream's write reports
bool standalone_aborted_is_asios();    // coaudio::detail::aborted() there
} // namespace test

TEST_CASE("Both flavours in one program have distinct types")
{
    CHECK(test::standalone_stream_type() != typeid(coaudio::output_stream).name());
    // Not a template, so only the inline namespace tells the two apart.
    CHECK(test::standalone_config_type() != typeid(coaudio::stream_config).name());
    CHECK(test::standalone_stream_type().find("standalone_asio") != std::string::npos);
    CHECK(std::string(typeid(coaudio::output_stream).name()).find("boost_asio") !=
          std::string::npos);
}

TEST_CASE("Both flavours in one program each run on their own Asio")
{
    // One inline function, defined differently by each flavour: under one
    // name the linker would keep one definition, and one side would get the
    // other's error category.
    CHECK(test::standalone_aborted_is_asios());
    CHECK(coaudio::detail::aborted() ==
          std::error_code(boost::system::error_code(boost::asio::error::operation_aborted)));

    CHECK(test::standalone_stream_error() ==
          coaudio::make_error_code(coaudio::errc::not_open).message());

    boost::asio::io_context io;
    coaudio::output_stream out(io);
    boost::system::error_code ec;
    bool done = false;
    const float one = 0;
    out.async_write_frames(std::span(&one, 1), [&](boost::system::error_code e, std::size_t) {
        ec = e;
        done = true;
    });
    io.run();
    CHECK(done);
    CHECK(ec == coaudio::errc::not_open);
}
