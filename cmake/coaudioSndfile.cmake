# coaudioSndfile.cmake - the optional libsndfile support behind coaudio/sndfile.hpp.
#
# Looks for libsndfile once per configure, through pkg-config (module sndfile;
# Debian: libsndfile1-dev). When found it defines the INTERFACE target
# coaudio_sndfile, alias coaudio::sndfile, which links coaudio::coaudio and
# libsndfile and defines COAUDIO_HAS_SNDFILE=1. Callers test for the target:
#
#   include("${PROJECT_SOURCE_DIR}/cmake/coaudioSndfile.cmake")
#   if(TARGET coaudio_sndfile) ... endif()
#
# Included from the top-level CMakeLists.txt and from tests/ (which runs first),
# hence the guard. COAUDIO_WITH_SNDFILE=OFF leaves libsndfile out even when it is
# installed. Nothing else in coaudio depends on it.

include_guard(GLOBAL)

include("${CMAKE_CURRENT_LIST_DIR}/coaudioOptional.cmake")
coaudio_optional_component(sndfile sndfile COAUDIO_HAS_SNDFILE "play_file and record" libsndfile1-dev)
