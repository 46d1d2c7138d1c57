# coaudioDependencies.cmake - find PortAudio and Asio, never download them.
#
# Included by the project build and by the installed coaudioConfig.cmake, so it
# must not rely on anything that exists only in this source tree. Downloading is
# the job of coaudioFetchDependencies.cmake, which only the project build uses.
#
# Every finder has the same contract:
#   coaudio_find_<dep>(<out_var> [GLOBAL])
# On success it leaves the imported target coaudio links to (PortAudio::portaudio,
# asio::asio) and sets <out_var> to TRUE and <out_var>_HOW to where it came from.
# On failure it sets <out_var> to FALSE and <out_var>_REASON to a sentence for the
# user. GLOBAL makes the targets it creates visible in every directory, which the
# project build wants and a Config file read by a consumer does not.

# The oldest Asio the headers are built and tested against (Debian bookworm).
set(COAUDIO_ASIO_MIN_VERSION 1.22.0)

# coaudio exports the name PortAudio::portaudio. Wrapping whatever we found in an
# INTERFACE IMPORTED target (rather than an ALIAS) keeps that name in our export
# set even when the real target is an in-tree library that is not installed.
function(_coaudio_wrap_portaudio target global)
    if(global)
        add_library(PortAudio::portaudio INTERFACE IMPORTED GLOBAL)
    else()
        add_library(PortAudio::portaudio INTERFACE IMPORTED)
    endif()
    set_target_properties(PortAudio::portaudio PROPERTIES INTERFACE_LINK_LIBRARIES "${target}")
endfunction()

function(coaudio_find_portaudio out_var)
    cmake_parse_arguments(PARSE_ARGV 1 arg "GLOBAL" "" "")
    set(${out_var} TRUE PARENT_SCOPE)

    if(TARGET PortAudio::portaudio)
        set(${out_var}_HOW "existing target PortAudio::portaudio" PARENT_SCOPE)
        return()
    endif()

    # Built in the same tree by a parent project (add_subdirectory, FetchContent).
    foreach(candidate IN ITEMS portaudio portaudio_static)
        if(TARGET ${candidate})
            _coaudio_wrap_portaudio(${candidate} "${arg_GLOBAL}")
            set(${out_var}_HOW "existing target ${candidate}" PARENT_SCOPE)
            return()
        endif()
    endforeach()

    # An installed CMake package: PortAudio after 19.7 ships PortAudioConfig.cmake
    # with PortAudio::portaudio; 19.7.0 ships portaudioConfig.cmake with a plain
    # `portaudio` (shared) and/or `portaudio_static`.
    find_package(PortAudio CONFIG QUIET)
    if(TARGET PortAudio::portaudio)
        set(${out_var}_HOW "CMake package ${PortAudio_DIR}" PARENT_SCOPE)
        return()
    endif()
    find_package(portaudio CONFIG QUIET)
    foreach(candidate IN ITEMS portaudio portaudio_static)
        if(TARGET ${candidate})
            _coaudio_wrap_portaudio(${candidate} "${arg_GLOBAL}")
            set(${out_var}_HOW "CMake package ${portaudio_DIR}" PARENT_SCOPE)
            return()
        endif()
    endforeach()

    # pkg-config, which is all distributions ship (portaudio19-dev on Debian).
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        if(arg_GLOBAL)
            pkg_check_modules(COAUDIO_PC_PORTAUDIO QUIET IMPORTED_TARGET GLOBAL portaudio-2.0)
        else()
            pkg_check_modules(COAUDIO_PC_PORTAUDIO QUIET IMPORTED_TARGET portaudio-2.0)
        endif()
        if(COAUDIO_PC_PORTAUDIO_FOUND)
            _coaudio_wrap_portaudio(PkgConfig::COAUDIO_PC_PORTAUDIO "${arg_GLOBAL}")
            set(${out_var}_HOW "pkg-config portaudio-2.0 ${COAUDIO_PC_PORTAUDIO_VERSION}"
                PARENT_SCOPE)
            return()
        endif()
    endif()

    set(${out_var} FALSE PARENT_SCOPE)
    set(${out_var}_REASON
        "PortAudio was not found: no target PortAudio::portaudio or portaudio, no CMake \
package PortAudio/portaudio (set PortAudio_DIR or CMAKE_PREFIX_PATH), and no pkg-config \
module portaudio-2.0 (install portaudio19-dev or set PKG_CONFIG_PATH)."
        PARENT_SCOPE)
endfunction()

# Creates asio::asio from an include directory holding asio.hpp. Standalone Asio
# needs no defines; it needs the platform's threads and, on Windows, sockets.
function(coaudio_make_asio_target include_dir global)
    if(global)
        add_library(asio::asio INTERFACE IMPORTED GLOBAL)
    else()
        add_library(asio::asio INTERFACE IMPORTED)
    endif()
    find_package(Threads REQUIRED)
    set_target_properties(asio::asio PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${include_dir}"
        INTERFACE_LINK_LIBRARIES
            "Threads::Threads;$<$<PLATFORM_ID:Windows>:ws2_32>;$<$<PLATFORM_ID:Windows>:mswsock>")
endfunction()

# Reads ASIO_VERSION (e.g. 102201 for 1.22.1) from asio/version.hpp.
function(coaudio_asio_version include_dir out_var)
    set(version_header "${include_dir}/asio/version.hpp")
    set(${out_var} "" PARENT_SCOPE)
    if(NOT EXISTS "${version_header}")
        return()
    endif()
    file(STRINGS "${version_header}" line REGEX "^#[ \t]*define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
    if(line MATCHES "ASIO_VERSION[ \t]+([0-9]+)")
        set(n ${CMAKE_MATCH_1})
        math(EXPR major "${n} / 100000")
        math(EXPR minor "${n} / 100 % 1000")
        math(EXPR patch "${n} % 100")
        set(${out_var} "${major}.${minor}.${patch}" PARENT_SCOPE)
    endif()
endfunction()

function(coaudio_find_asio out_var)
    cmake_parse_arguments(PARSE_ARGV 1 arg "GLOBAL" "" "")
    set(${out_var} TRUE PARENT_SCOPE)

    if(TARGET asio::asio)
        set(${out_var}_HOW "existing target asio::asio" PARENT_SCOPE)
        return()
    endif()
    # Asio has no CMake package, but this search stands in for find_package(asio)
    # and honours its switch, so a build can ignore an installed Asio.
    if(CMAKE_DISABLE_FIND_PACKAGE_asio)
        set(${out_var} FALSE PARENT_SCOPE)
        set(${out_var}_REASON "the search for Asio is off (CMAKE_DISABLE_FIND_PACKAGE_asio)." PARENT_SCOPE)
        return()
    endif()

    find_path(COAUDIO_ASIO_INCLUDE_DIR
        NAMES asio.hpp
        HINTS "${Asio_ROOT}" "$ENV{Asio_ROOT}" "${ASIO_ROOT}" "$ENV{ASIO_ROOT}"
        PATH_SUFFIXES include asio/include
        DOC "Directory holding standalone Asio's asio.hpp")
    if(NOT COAUDIO_ASIO_INCLUDE_DIR)
        set(${out_var} FALSE PARENT_SCOPE)
        set(${out_var}_REASON
            "standalone Asio was not found: no target asio::asio and no asio.hpp on the \
search path (install libasio-dev, or set COAUDIO_ASIO_INCLUDE_DIR or Asio_ROOT)."
            PARENT_SCOPE)
        return()
    endif()

    coaudio_asio_version("${COAUDIO_ASIO_INCLUDE_DIR}" version)
    if(version AND version VERSION_LESS COAUDIO_ASIO_MIN_VERSION)
        set(${out_var} FALSE PARENT_SCOPE)
        set(${out_var}_REASON
            "Asio ${version} in ${COAUDIO_ASIO_INCLUDE_DIR} is older than the \
${COAUDIO_ASIO_MIN_VERSION} coaudio needs (set COAUDIO_ASIO_INCLUDE_DIR to a newer one)."
            PARENT_SCOPE)
        return()
    endif()

    coaudio_make_asio_target("${COAUDIO_ASIO_INCLUDE_DIR}" "${arg_GLOBAL}")
    set(${out_var}_HOW "${COAUDIO_ASIO_INCLUDE_DIR} (Asio ${version})" PARENT_SCOPE)
endfunction()

# Boost.Asio for coaudio::coaudio-boost: Boost's headers (Asio and System are
# header-only), 1.81 or newer. Leaves Boost::headers.
set(COAUDIO_BOOST_MIN_VERSION 1.81)

function(coaudio_find_boost out_var)
    set(${out_var} TRUE PARENT_SCOPE)
    if(TARGET Boost::headers)
        set(${out_var}_HOW "existing target Boost::headers" PARENT_SCOPE)
        return()
    endif()
    find_package(Boost ${COAUDIO_BOOST_MIN_VERSION} CONFIG QUIET)
    if(TARGET Boost::headers)
        set(${out_var}_HOW "Boost ${Boost_VERSION} (${Boost_DIR})" PARENT_SCOPE)
        return()
    endif()
    set(${out_var} FALSE PARENT_SCOPE)
    set(${out_var}_REASON
        "Boost ${COAUDIO_BOOST_MIN_VERSION} or newer was not found (Debian: libboost1.81-dev; \
or set Boost_DIR)."
        PARENT_SCOPE)
endfunction()
