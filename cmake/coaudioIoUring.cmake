# coaudioIoUring.cmake - the optional io_uring backend of Asio (Linux only).
#
# COAUDIO_IO_URING=ON (default OFF) defines, on coaudio::coaudio,
#
#   ASIO_HAS_IO_URING    Asio's io_uring service, through liburing, and
#   ASIO_DISABLE_EPOLL   no epoll reactor, so io_uring becomes the io_context's
#                        default: descriptors, sockets and timers all go
#                        through it (config.hpp's ASIO_HAS_IO_URING_AS_DEFAULT)
#
# (BOOST_ASIO_HAS_IO_URING and BOOST_ASIO_DISABLE_EPOLL on coaudio::coaudio-boost)
# and links liburing (pkg-config module liburing; Debian: liburing-dev). The
# first alone would change nothing for coaudio: Asio then keeps epoll for
# descriptors and uses io_uring for files only, while the doorbell coaudio waits
# on per audio block is a descriptor. With both, that wait is an io_uring poll
# request instead of epoll_wait plus an epoll_ctl to re-arm it.
#
# The macros change the layout of Asio's types, so every translation unit of a
# program must agree on them: a program links coaudio::coaudio everywhere it
# includes Asio, or defines the same two itself. The installed
# coaudioConfig.cmake carries the choice and looks for liburing again.

include_guard(GLOBAL)

option(COAUDIO_IO_URING "Run Asio on io_uring instead of epoll for programs that link coaudio (Linux, liburing)" OFF)

if(COAUDIO_IO_URING)
    if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
        message(FATAL_ERROR "coaudio: COAUDIO_IO_URING=ON, but io_uring is Linux only "
                            "(this is ${CMAKE_SYSTEM_NAME})")
    endif()
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(COAUDIO_LIBURING QUIET IMPORTED_TARGET GLOBAL liburing)
    endif()
    if(NOT COAUDIO_LIBURING_FOUND)
        message(FATAL_ERROR "coaudio: COAUDIO_IO_URING=ON, but liburing was not found "
                            "(pkg-config module liburing; Debian: liburing-dev)")
    endif()
    target_link_libraries(coaudio INTERFACE PkgConfig::COAUDIO_LIBURING)
    target_compile_definitions(coaudio INTERFACE ASIO_HAS_IO_URING=1 ASIO_DISABLE_EPOLL=1)
    if(TARGET coaudio_boost)
        target_link_libraries(coaudio_boost INTERFACE PkgConfig::COAUDIO_LIBURING)
        target_compile_definitions(coaudio_boost INTERFACE BOOST_ASIO_HAS_IO_URING=1 BOOST_ASIO_DISABLE_EPOLL=1)
    endif()
    message(STATUS "coaudio: Asio on io_uring (liburing ${COAUDIO_LIBURING_VERSION}), without epoll")
endif()
