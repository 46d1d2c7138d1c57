# coaudioSoxr.cmake - the optional libsoxr support behind coaudio/resample.hpp.
#
# Looks for libsoxr once per configure, through pkg-config (module soxr;
# Debian: libsoxr-dev). When found it defines the INTERFACE target
# coaudio_soxr, alias coaudio::soxr, which links coaudio::coaudio and libsoxr
# and defines COAUDIO_HAS_SOXR=1. With it the one-shot and file operations
# convert between the rate asked for and the rate the device runs at. Callers
# test for the target:
#
#   include("${PROJECT_SOURCE_DIR}/cmake/coaudioSoxr.cmake")
#   if(TARGET coaudio_soxr) ... endif()
#
# Included from the top-level CMakeLists.txt and from tests/ (which runs first),
# hence the guard. COAUDIO_WITH_SOXR=OFF leaves libsoxr out even when it is
# installed. libsoxr is LGPL: it is linked as the shared library pkg-config names.

include_guard(GLOBAL)

include("${CMAKE_CURRENT_LIST_DIR}/coaudioOptional.cmake")
coaudio_optional_component(soxr soxr COAUDIO_HAS_SOXR "sample-rate conversion" libsoxr-dev)
