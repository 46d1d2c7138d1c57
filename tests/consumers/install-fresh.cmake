# Installs the coaudio build in BUILD_DIR into PREFIX, emptied first so that the
# consumer_find_package test sees exactly what this build installs and nothing a
# previous run left behind.
#
#   cmake -DBUILD_DIR=<dir> -DPREFIX=<dir> [-DCONFIG=<cfg>] -P install-fresh.cmake
cmake_minimum_required(VERSION 3.20)

foreach(var IN ITEMS BUILD_DIR PREFIX)
    if(NOT ${var})
        message(FATAL_ERROR "install-fresh.cmake: ${var} is not set")
    endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
    set(config_args --config "${CONFIG}")
endif()
execute_process(
    COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "install-fresh.cmake: cmake --install failed (${result})")
endif()
