#!/usr/bin/env bash
# Checks that the order of includes does not matter, or fails clearly:
#
#   include_order.sh <clang++> <coaudio include dir> <Asio include dir> <asio_first.cpp>
#
# 1. With the defines coaudio's CMake target and coaudio.pc give, a file that
#    includes <asio.hpp> first compiles.
# 2. Without them it compiles (Asio 1.24 and later detect Clang's coroutines), or,
#    on older Asio, fails with coaudio's #error naming ASIO_HAS_CO_AWAIT as its
#    first error, not somewhere in the middle of Asio.
set -uo pipefail
cxx=$1 coaudio_include=$2 asio_include=$3 source=$4
flags=(-std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I "$coaudio_include")
# (-isystem /usr/include would break the C++ library's #include_next.)
[[ $asio_include == /usr/include ]] || flags+=(-isystem "$asio_include")
version=$(sed -n 's/^# *define ASIO_VERSION \([0-9]*\).*/\1/p' "$asio_include/asio/version.hpp")
echo "include_order: $($cxx --version | head -n 1), Asio $version"

if ! "$cxx" "${flags[@]}" -DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1 "$source"; then
    echo "FAIL: Asio first, with the defines of coaudio's CMake target: does not compile"
    exit 1
fi
echo "ok: Asio first, with the target's defines, compiles"

out=$("$cxx" "${flags[@]}" "$source" 2>&1)
rc=$?
if ((rc == 0)); then
    if ((version < 102400)); then
        echo "FAIL: Asio $version first, no defines: compiled, but this Asio cannot see Clang's coroutines"
        exit 1
    fi
    echo "ok: Asio $version first, no defines, compiles"
elif grep -m 1 'error:' <<<"$out" | grep -q 'coaudio: an Asio header was included before coaudio'; then
    echo "ok: Asio $version first, no defines: the first error is coaudio's:"
    grep -m 1 'error:' <<<"$out"
else
    echo "FAIL: Asio $version first, no defines: the first error is not coaudio's #error:"
    grep 'error:' <<<"$out" | head -n 10
    exit 1
fi
