# The README's FetchContent snippet, offline, on a machine without Asio or PortAudio.
#
#   cmake -DSOURCE_DIR=<coaudio checkout> -DDEPS_DIR=<dir with the release tarballs>
#         -DWORK_DIR=<scratch dir> -DGENERATOR=<gen> -DCXX=<compiler> -P offline.cmake
#
# 1. Packs the checkout's files (tracked and new, as they are in the working tree)
#    into a tarball: what a user downloads.
# 2. Generates a project from the README's snippet, with `URL file://` of that
#    tarball filled in, and configures it with the installed Asio and PortAudio out
#    of sight (no find_package, no pkg-config, no Asio search), so coaudio's
#    fallback fetches them: the releases it pins (Asio 1.38.2 and PortAudio
#    19.7.0), from the release tarballs in DEPS_DIR through
#    FETCHCONTENT_SOURCE_DIR_<NAME>.
# 3. Builds the README's `app` and the JACK loopback test, and runs both (the
#    caller provides the JACK server).
# Without the tarballs it prints "coaudio-test-skipped" (ctest's skip regex).
cmake_minimum_required(VERSION 3.20)

foreach(var IN ITEMS SOURCE_DIR DEPS_DIR WORK_DIR GENERATOR CXX)
    if(NOT ${var})
        message(FATAL_ERROR "offline.cmake: ${var} is not set")
    endif()
endforeach()

# The releases are the ones coaudio's fallback pins, read from where it pins them:
# asio-1-38-2 is asio-1.38.2.tar.gz, v19.7.0 is portaudio-19.7.0.tar.gz.
file(STRINGS "${SOURCE_DIR}/cmake/coaudioFetchDependencies.cmake" pins
    REGEX "^set\\(COAUDIO_(ASIO|PORTAUDIO)_GIT_TAG ")
if(NOT pins MATCHES "COAUDIO_ASIO_GIT_TAG asio-([0-9]+)-([0-9]+)-([0-9]+)")
    message(FATAL_ERROR "offline.cmake: no Asio pin in coaudioFetchDependencies.cmake")
endif()
set(asio_version "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
math(EXPR asio_version_number "${CMAKE_MATCH_1} * 100000 + ${CMAKE_MATCH_2} * 100 + ${CMAKE_MATCH_3}")
if(NOT pins MATCHES "COAUDIO_PORTAUDIO_GIT_TAG v([0-9.]+)")
    message(FATAL_ERROR "offline.cmake: no PortAudio pin in coaudioFetchDependencies.cmake")
endif()
set(portaudio_version "${CMAKE_MATCH_1}")
set(asio_tarball "${DEPS_DIR}/asio-${asio_version}.tar.gz")
set(portaudio_tarball "${DEPS_DIR}/portaudio-${portaudio_version}.tar.gz")
message(STATUS "The fallback pins Asio ${asio_version} and PortAudio ${portaudio_version}")
foreach(tarball IN ITEMS "${asio_tarball}" "${portaudio_tarball}")
    if(NOT EXISTS "${tarball}")
        message("coaudio-test-skipped: ${tarball} is not there (the release tarballs are "
                "expected in shared/deps/ beside the checkout)")
        return()
    endif()
endforeach()

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "offline.cmake: failed (${rc}): ${command}")
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/deps" "${WORK_DIR}/empty-pkgconfig" "${WORK_DIR}/project")

# ---- 1. The checkout as a tarball ----------------------------------------------------
find_package(Git QUIET)
if(NOT GIT_FOUND)
    message("coaudio-test-skipped: git is needed to list the checkout's files")
    return()
endif()
execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" ls-files --cached --others --exclude-standard
    OUTPUT_VARIABLE files RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message("coaudio-test-skipped: ${SOURCE_DIR} is not a git checkout")
    return()
endif()
string(REPLACE "\n" ";" files "${files}")
set(list_file "${WORK_DIR}/files.txt")
file(WRITE "${list_file}" "")
foreach(f IN LISTS files)
    if(f AND EXISTS "${SOURCE_DIR}/${f}") # not deleted in the working tree
        file(APPEND "${list_file}" "${f}\n")
    endif()
endforeach()
set(coaudio_tarball "${WORK_DIR}/coaudio-src.tar.gz")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${coaudio_tarball}" "--files-from=${list_file}"
    WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "offline.cmake: could not pack ${SOURCE_DIR}")
endif()

# ---- 2. The README's snippet as a project -------------------------------------------
file(READ "${SOURCE_DIR}/README.md" readme)
string(FIND "${readme}" "## Using coaudio in your project" at)
string(SUBSTRING "${readme}" ${at} -1 readme)
if(NOT readme MATCHES "```cmake\n([^`]*FetchContent_Declare[^`]*)```")
    message(FATAL_ERROR "offline.cmake: no FetchContent snippet in the README's \"Using coaudio\"")
endif()
set(snippet "${CMAKE_MATCH_1}")
string(REGEX REPLACE "URL <[^>]*>" "URL \"file://${coaudio_tarball}\"" snippet "${snippet}")
if(NOT snippet MATCHES "file://")
    message(FATAL_ERROR "offline.cmake: the README's snippet has no `URL <...>` to fill in")
endif()
message(STATUS "The README's snippet, filled in:\n${snippet}")
set(README_SNIPPET "${snippet}")
get_filename_component(OFFLINE_DIR "${CMAKE_CURRENT_LIST_DIR}/offline" ABSOLUTE)
set(CONSUMER_MAIN "${CMAKE_CURRENT_LIST_DIR}/main.cpp")
configure_file("${OFFLINE_DIR}/CMakeLists.in" "${WORK_DIR}/project/CMakeLists.txt" @ONLY)

foreach(tarball IN ITEMS "${asio_tarball}" "${portaudio_tarball}")
    file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${WORK_DIR}/deps")
endforeach()

# What the machine has installed is put out of reach: PortAudio's CMake packages
# and Asio's search are switched off, and pkg-config sees an empty directory
# (PortAudio's own build still finds ALSA and JACK by their headers).
run("${CMAKE_COMMAND}" -E env "PKG_CONFIG_LIBDIR=${WORK_DIR}/empty-pkgconfig" --unset=PKG_CONFIG_PATH
    "${CMAKE_COMMAND}" -S "${WORK_DIR}/project" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_DISABLE_FIND_PACKAGE_PortAudio=ON -DCMAKE_DISABLE_FIND_PACKAGE_portaudio=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_asio=ON
    "-DFETCHCONTENT_SOURCE_DIR_ASIO=${WORK_DIR}/deps/asio-${asio_version}"
    "-DFETCHCONTENT_SOURCE_DIR_PORTAUDIO=${WORK_DIR}/deps/portaudio-${portaudio_version}"
    "-DEXPECTED_ASIO_VERSION=${asio_version_number}"
    "-DEXPECTED_PORTAUDIO_VERSION=${portaudio_version}")

# ---- 3. Build and run ---------------------------------------------------------------
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" -j2 --target app loopback_test)
run("${WORK_DIR}/build/app")
run("${WORK_DIR}/build/loopback_test")
message("offline consumer: built and passed on fetched Asio ${asio_version} and PortAudio ${portaudio_version}")
