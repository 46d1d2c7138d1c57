#!/usr/bin/env bash
# Builds the README's first program (examples/capture.cpp) from an installed
# coaudio with nothing but pkg-config, as a Make or Meson user would:
#
#   pkgconfig.sh <install prefix> <C++ compiler> <program.cpp> <out dir>
#
# With Clang on Asio 1.22 this also proves that coaudio.pc carries the defines
# that give Asio coroutines.
set -euo pipefail
prefix=$1 cxx=$2 source=$3 out=$4

export PKG_CONFIG_PATH="$prefix/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists --print-errors coaudio
echo "coaudio.pc: $(pkg-config --modversion coaudio): $(pkg-config --cflags --libs coaudio)"
mkdir -p "$out"
# shellcheck disable=SC2046 # the flags are meant to split into words
"$cxx" -std=c++20 -Wall -Wextra -Wpedantic -Werror "$source" $(pkg-config --cflags --libs coaudio) \
    -o "$out/capture"
echo "built $out/capture with $cxx"
