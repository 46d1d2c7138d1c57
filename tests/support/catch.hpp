// coaudio tests: the one include for Catch2, whichever major version the build found.
// Distributed under the Boost Software License, Version 1.0.
//
// tests/CMakeLists.txt defines COAUDIO_CATCH2_V3 when it links Catch2 3, so test
// files write `#include "support/catch.hpp"` and stay version-agnostic. Both
// versions spell TEST_CASE, SECTION, REQUIRE, CHECK, CHECK_THROWS_AS the same;
// matchers and Approx differ, so prefer plain comparisons.
#ifndef COAUDIO_TESTS_SUPPORT_CATCH_HPP
#define COAUDIO_TESTS_SUPPORT_CATCH_HPP

#if defined(COAUDIO_CATCH2_V3)
#  include <catch2/catch_all.hpp>
#else
#  include <catch2/catch.hpp>
#endif

#endif
