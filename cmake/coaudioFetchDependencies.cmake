# coaudioFetchDependencies.cmake - download what coaudioDependencies.cmake could not find.
#
# Project build only (COAUDIO_FETCH_DEPS=ON); never installed, so a consumer of an
# installed coaudio never downloads anything behind its back. The content names
# (portaudio, asio, Catch2) are the common ones, so a parent project that declares
# the same dependency first wins, as FetchContent intends.

include(FetchContent)

set(COAUDIO_PORTAUDIO_GIT_TAG v19.7.0 CACHE STRING "PortAudio tag fetched when it is not installed")
# Asio 1.38.2 is the newest release, and every release from 1.22 builds coaudio
# (CI builds 1.22, 1.28, 1.30 and 1.38).
set(COAUDIO_ASIO_GIT_TAG asio-1-38-2 CACHE STRING "Asio tag fetched when it is not installed")
set(COAUDIO_CATCH2_GIT_TAG v3.5.4 CACHE STRING "Catch2 tag fetched when it is not installed")
mark_as_advanced(COAUDIO_PORTAUDIO_GIT_TAG COAUDIO_ASIO_GIT_TAG COAUDIO_CATCH2_GIT_TAG)

# Arguments that keep a fetched project's targets out of ALL and its headers out of
# our warnings, where this CMake knows them.
set(_coaudio_fetch_extra_args "")
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.25)
    list(APPEND _coaudio_fetch_extra_args SYSTEM)
endif()
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.28)
    list(APPEND _coaudio_fetch_extra_args EXCLUDE_FROM_ALL)
endif()

function(coaudio_fetch_portaudio)
    # A static library without install rules: it is an implementation detail of
    # this build. 19.7.0 spells the switches PA_BUILD_SHARED/PA_BUILD_STATIC, later
    # releases PA_BUILD_SHARED_LIBS; setting both is harmless.
    set(PA_BUILD_SHARED OFF CACHE BOOL "")
    set(PA_BUILD_STATIC ON CACHE BOOL "")
    set(PA_BUILD_SHARED_LIBS OFF CACHE BOOL "")
    set(PA_DISABLE_INSTALL ON CACHE BOOL "")
    set(PA_BUILD_TESTS OFF CACHE BOOL "")
    set(PA_BUILD_EXAMPLES OFF CACHE BOOL "")
    # 19.7.0 asks for an ancient CMake; let CMake 4 configure it anyway.
    if(NOT DEFINED CMAKE_POLICY_VERSION_MINIMUM)
        set(CMAKE_POLICY_VERSION_MINIMUM 3.5)
    endif()

    FetchContent_Declare(portaudio
        GIT_REPOSITORY https://github.com/PortAudio/portaudio.git
        GIT_TAG ${COAUDIO_PORTAUDIO_GIT_TAG}
        GIT_SHALLOW TRUE
        ${_coaudio_fetch_extra_args})
    FetchContent_MakeAvailable(portaudio)

    foreach(candidate IN ITEMS PortAudio::portaudio portaudio_static portaudio)
        if(TARGET ${candidate})
            if(NOT candidate STREQUAL "PortAudio::portaudio")
                _coaudio_wrap_portaudio(${candidate} TRUE)
            endif()
            return()
        endif()
    endforeach()
    message(FATAL_ERROR "coaudio: fetched PortAudio ${COAUDIO_PORTAUDIO_GIT_TAG} but it defined "
                        "no portaudio target")
endfunction()

function(coaudio_fetch_asio)
    # Asio has no CMake build; SOURCE_SUBDIR pointing nowhere makes
    # FetchContent_MakeAvailable download it without adding a subdirectory.
    FetchContent_Declare(asio
        GIT_REPOSITORY https://github.com/chriskohlhoff/asio.git
        GIT_TAG ${COAUDIO_ASIO_GIT_TAG}
        GIT_SHALLOW TRUE
        SOURCE_SUBDIR none)
    FetchContent_MakeAvailable(asio)
    # The repository keeps the headers in asio/include; a release tarball given as
    # FETCHCONTENT_SOURCE_DIR_ASIO may hold include/ at its top.
    if(EXISTS "${asio_SOURCE_DIR}/asio/include/asio.hpp")
        coaudio_make_asio_target("${asio_SOURCE_DIR}/asio/include" TRUE)
    elseif(EXISTS "${asio_SOURCE_DIR}/include/asio.hpp")
        coaudio_make_asio_target("${asio_SOURCE_DIR}/include" TRUE)
    else()
        message(FATAL_ERROR "coaudio: no asio.hpp in the fetched Asio at ${asio_SOURCE_DIR}")
    endif()
endfunction()

function(coaudio_fetch_catch2)
    set(CATCH_INSTALL_DOCS OFF CACHE BOOL "")
    set(CATCH_INSTALL_EXTRAS OFF CACHE BOOL "")
    FetchContent_Declare(Catch2
        GIT_REPOSITORY https://github.com/catchorg/Catch2.git
        GIT_TAG ${COAUDIO_CATCH2_GIT_TAG}
        GIT_SHALLOW TRUE
        ${_coaudio_fetch_extra_args})
    FetchContent_MakeAvailable(Catch2)
endfunction()
