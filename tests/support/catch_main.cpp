// coaudio tests: Catch2 v2's main(), compiled once into coaudio_test_main.
// Distributed under the Boost Software License, Version 1.0.
//
// With Catch2 v3 this file is not built: the tests link Catch2::Catch2WithMain.
#if defined(COAUDIO_CATCH2_V3)
#  error "with Catch2 v3 main() comes from Catch2::Catch2WithMain; do not compile this file"
#endif

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
