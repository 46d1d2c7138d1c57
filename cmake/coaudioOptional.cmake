# coaudioOptional.cmake - one optional component on a pkg-config module.
#
# coaudio_optional_component(<name> <module> <define> <what> <debian>) defines
# the option COAUDIO_WITH_<NAME> (ON) and, when pkg-config finds <module>, the
# INTERFACE target coaudio_<name>, alias coaudio::<name>, which links
# coaudio::coaudio and the module and defines <define>=1. <what> is the
# feature the component gives, <debian> the package that has the module;
# both go into the configure messages. Used by coaudioSndfile.cmake and
# coaudioSoxr.cmake.

include_guard(GLOBAL)

function(coaudio_optional_component name module define what debian)
    string(TOUPPER "${name}" upper)
    option(COAUDIO_WITH_${upper} "Offer coaudio::${name} (${what}) when ${module} is found" ON)
    if(NOT COAUDIO_WITH_${upper})
        message(STATUS "coaudio: COAUDIO_WITH_${upper} is OFF: building without coaudio::${name}")
        return()
    endif()
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(COAUDIO_${upper} QUIET IMPORTED_TARGET GLOBAL ${module})
    endif()
    if(NOT COAUDIO_${upper}_FOUND)
        message(STATUS "coaudio: lib${module} not found (pkg-config module ${module}; Debian: ${debian}): "
                       "building without coaudio::${name}, ${what}")
        return()
    endif()
    add_library(coaudio_${name} INTERFACE)
    add_library(coaudio::${name} ALIAS coaudio_${name})
    set_target_properties(coaudio_${name} PROPERTIES EXPORT_NAME ${name})
    target_link_libraries(coaudio_${name} INTERFACE coaudio::coaudio PkgConfig::COAUDIO_${upper})
    target_compile_definitions(coaudio_${name} INTERFACE ${define}=1)
    message(STATUS "coaudio: lib${module} ${COAUDIO_${upper}_VERSION}, so coaudio::${name}, ${what}")
endfunction()
