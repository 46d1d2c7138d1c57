// coaudio: which Asio this build of coaudio sits on, and the namespace that says so.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_NAMESPACE_HPP
#define COAUDIO_DETAIL_NAMESPACE_HPP

// coaudio is one source tree over two Asio flavours:
//
//   standalone Asio  (default)                   asio::,        std::error_code
//   Boost.Asio       COAUDIO_USE_BOOST_ASIO      boost::asio::, boost::system::error_code
//
// The CMake targets coaudio::coaudio and coaudio::coaudio-boost set the macro
// for you. Everything coaudio declares lives in an inline namespace named after
// the flavour, so one program may link code built on both: the two sets of
// templates and inline functions then have different mangled names instead of
// clashing (an ODR violation) under one. Headers open it as
//
//   namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE { ... }
#ifdef COAUDIO_USE_BOOST_ASIO
#  define COAUDIO_BACKEND_NAMESPACE boost_asio
#else
#  define COAUDIO_BACKEND_NAMESPACE standalone_asio
#endif

#endif
