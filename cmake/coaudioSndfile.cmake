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

option(COAUDIO_WITH_SNDFILE "Offer coaudio::sndfile (coaudio/sndfile.hpp) when libsndfile is found" ON)

if(COAUDIO_WITH_SNDFILE)
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(COAUDIO_SNDFILE QUIET IMPORTED_TARGET GLOBAL sndfile)
    endif()
    if(COAUDIO_SNDFILE_FOUND)
        add_library(coaudio_sndfile INTERFACE)
        add_library(coaudio::sndfile ALIAS coaudio_sndfile)
        set_target_properties(coaudio_sndfile PROPERTIES EXPORT_NAME sndfile)
        target_link_libraries(coaudio_sndfile INTERFACE coaudio::coaudio PkgConfig::COAUDIO_SNDFILE)
        target_compile_definitions(coaudio_sndfile INTERFACE COAUDIO_HAS_SNDFILE=1)
        message(STATUS "coaudio: libsndfile ${COAUDIO_SNDFILE_VERSION}, so coaudio::sndfile, play_file and record")
    else()
        message(STATUS "coaudio: libsndfile not found (pkg-config module sndfile; Debian: libsndfile1-dev): "
                       "building without coaudio::sndfile, play_file and record")
    endif()
else()
    message(STATUS "coaudio: COAUDIO_WITH_SNDFILE is OFF: building without coaudio::sndfile")
endif()
