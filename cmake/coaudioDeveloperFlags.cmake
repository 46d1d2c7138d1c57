# coaudioDeveloperFlags.cmake - warnings and sanitizers for coaudio's own programs.
#
# Defines the INTERFACE target coaudio_developer_flags, which tests and examples
# link privately. It is never installed or exported: consumers of coaudio::coaudio
# choose their own flags.
#
#   COAUDIO_WERROR    turn warnings into errors
#   COAUDIO_SANITIZE  ""       no sanitizer
#                     address  AddressSanitizer + UndefinedBehaviorSanitizer
#                     thread   ThreadSanitizer

include_guard(GLOBAL)

add_library(coaudio_developer_flags INTERFACE)

if(MSVC)
    target_compile_options(coaudio_developer_flags INTERFACE /W4 /permissive-)
    if(COAUDIO_WERROR)
        target_compile_options(coaudio_developer_flags INTERFACE /WX)
    endif()
else()
    target_compile_options(coaudio_developer_flags INTERFACE -Wall -Wextra -Wpedantic)
    if(COAUDIO_WERROR)
        target_compile_options(coaudio_developer_flags INTERFACE -Werror)
    endif()
endif()

set(_coaudio_sanitize_flags "")
if(COAUDIO_SANITIZE STREQUAL "address")
    set(_coaudio_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(COAUDIO_SANITIZE STREQUAL "thread")
    set(_coaudio_sanitize_flags -fsanitize=thread)
elseif(NOT COAUDIO_SANITIZE STREQUAL "")
    message(FATAL_ERROR "coaudio: COAUDIO_SANITIZE must be empty, \"address\" or \"thread\", "
                        "not \"${COAUDIO_SANITIZE}\"")
endif()

if(_coaudio_sanitize_flags)
    if(MSVC)
        message(FATAL_ERROR "coaudio: COAUDIO_SANITIZE is only wired up for GCC and Clang")
    endif()
    # -O1 keeps sanitized tests fast enough to be worth running while leaving
    # asserts on (it comes after the Debug -O0, so it wins) and stacks readable.
    target_compile_options(coaudio_developer_flags INTERFACE
        ${_coaudio_sanitize_flags} -O1 -g -fno-omit-frame-pointer)
    target_link_options(coaudio_developer_flags INTERFACE ${_coaudio_sanitize_flags})
    if(COAUDIO_SANITIZE STREQUAL "address")
        # Clang before 17 cannot emit UBSan's function check for split
        # coroutines ("Cannot represent a difference across sections",
        # llvm-project#49689), so leave that one check out there.
        target_compile_options(coaudio_developer_flags INTERFACE
            "$<$<AND:$<CXX_COMPILER_ID:Clang>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,17>>:-fno-sanitize=function>")
    endif()
endif()
unset(_coaudio_sanitize_flags)
