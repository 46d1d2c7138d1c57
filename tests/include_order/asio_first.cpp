// A program that includes Asio before coaudio, as many do. With coaudio's CMake
// target (or coaudio.pc) it builds on every supported Asio and compiler; without
// their defines, Clang on Asio 1.22 must stop at coaudio's #error, which says
// what to define, rather than fail inside Asio (include_order.sh checks both).
#include <asio.hpp>

#include <coaudio/coaudio.hpp>

#include <array>
#include <span>

asio::awaitable<void> read_one(coaudio::input_stream& in)
{
    std::array<float, 8> block{};
    co_await in.async_read_frames(std::span(block), asio::use_awaitable);
}

int main()
{
    asio::io_context io;
    coaudio::input_stream in(io);
    asio::co_spawn(io, read_one(in), asio::detached);
    io.run();
}
