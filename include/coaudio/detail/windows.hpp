// coaudio: <windows.h>, included the way Asio includes it.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_WINDOWS_HPP
#define COAUDIO_DETAIL_WINDOWS_HPP

#if defined(_WIN32)
// What Asio defines before it includes <windows.h>, so that whichever of the
// two comes first, <winsock2.h> still can, and std::min and std::max stay
// functions.
#  if !defined(WIN32_LEAN_AND_MEAN)
#    define WIN32_LEAN_AND_MEAN
#  endif
#  if !defined(NOMINMAX)
#    define NOMINMAX 1
#  endif
#  include <windows.h>
#endif

#endif
