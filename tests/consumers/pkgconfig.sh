#!/usr/bin/env bash
# Builds the README's first program (the code under "A first program", with
# the includes it needs) from an installed coaudio with nothing but
# pkg-config, as a Make or Meson user would:
#
#   pkgconfig.sh <install prefix> <C++ compiler> <README.md> <out dir>
#
# With Clang on Asio 1.22 this also proves that coaudio.pc carries the defines
# that give Asio coroutines.
set -euo pipefail
prefix=$1 cxx=$2 readme=$3 out=$4

mkdir -p "$out"
source=$out/first_program.cpp
{
    printf '#include <coaudio/coaudio.hpp>\n\n#include <asio.hpp>\n\n#include <cstdio>\n#include <exception>\n#include <vector>\n\n'
    sed -n '/^## A first program/,/^## /p' "$readme" | sed -n '/^```cpp$/,/^```$/p' | sed '1d;$d'
} >"$source"
grep -q 'int main' "$source" || { echo "pkgconfig.sh: no program under \"A first program\" in $readme" >&2; exit 1; }

export PKG_CONFIG_PATH="$prefix/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists --print-errors coaudio
echo "coaudio.pc: $(pkg-config --modversion coaudio): $(pkg-config --cflags --libs coaudio)"
# shellcheck disable=SC2046 # the flags are meant to split into words
"$cxx" -std=c++20 -Wall -Wextra -Wpedantic -Werror "$source" $(pkg-config --cflags --libs coaudio) \
    -o "$out/capture"
echo "built $out/capture with $cxx"
