# Cross-building coaudio (and PortAudio) for 64-bit Windows with mingw-w64.
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/x86_64-w64-mingw32.cmake ...
#
# The -posix compilers use winpthreads for std::thread, std::mutex and
# std::condition_variable, which coaudio's virtual device and tests need; the
# -win32 flavour of GCC 12 has no std::thread. tests/windows/cross-test.sh runs
# what this builds under wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(COAUDIO_MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${COAUDIO_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${COAUDIO_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${COAUDIO_MINGW_TRIPLET}-windres)

# Look for headers and libraries in the cross environment (and what
# CMAKE_FIND_ROOT_PATH adds), never in the build machine's /usr/include.
set(CMAKE_FIND_ROOT_PATH /usr/${COAUDIO_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
