#!/usr/bin/env bash
# coaudio's one check: make sure the tools are installed, then build and test.
#
#   bash tests/check.sh           dev (GCC, -Werror, every test, and the
#                                 integration tests again under valgrind), then
#                                 asan (Clang, ASan+UBSan, every test but the
#                                 consumer projects), then tsan (Clang, TSan,
#                                 the concurrent tests), then the matrix:
#                                 asio-1.28, asio-1.30, asio-1.38 (from
#                                 ../shared/deps), boost, and posix (macOS's
#                                 code path: pipe doorbell, select reactor, on
#                                 the system's Asio 1.22, which dev covers as
#                                 it is), each a lean -Werror build of the
#                                 library, examples and tests that runs the
#                                 unit and integration tiers; then uring
#                                 (Asio on io_uring, COAUDIO_IO_URING=ON: the
#                                 unit tests and a few integration tests,
#                                 skipped where the kernel refuses io_uring);
#                                 then windows:
#                                 the unit tests and examples cross-built with
#                                 mingw-w64, the tests run under wine
#   bash tests/check.sh --quick   dev only
#   bash tests/check.sh PRESET... just those presets
#
# On Debian or Ubuntu it installs missing packages when run as root, and prints
# the apt-get line to run otherwise. Exits non-zero if anything fails; every
# preset runs even after an earlier one failed, and a summary ends the output.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

usage() {
    sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

all_presets=(dev asan tsan asio-1.28 asio-1.30 asio-1.38 boost posix uring windows)
# Runnable by name, not part of the default run: dev already builds and tests
# everything on the system's Asio.
extra_presets=(asio-1.22)
presets=("${all_presets[@]}")
chosen=()
for arg in "$@"; do
    case $arg in
    --quick) presets=(dev) ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "check.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
    *)
        [[ " ${all_presets[*]} ${extra_presets[*]} " == *" $arg "* ]] ||
            { echo "check.sh: unknown preset '$arg'" >&2; usage >&2; exit 2; }
        chosen+=("$arg")
        ;;
    esac
done
((${#chosen[@]} > 0)) && presets=("${chosen[@]}")

say() { printf '\n=== %s\n' "$*"; }

# ---- Packages -------------------------------------------------------------------

required_packages=(cmake make g++ clang pkg-config portaudio19-dev libasio-dev catch2 jackd2 tmux
    libjack-jackd2-dev libsndfile1-dev libsoxr-dev valgrind sox libboost1.81-dev libasound2-dev git clang-format)
# The desktop servers' tiers (labels pulse, pipewire; tests/pulse/). Not
# pipewire-alsa: Debian makes it conflict with pulseaudio, and both tiers reach
# their server through ALSA's pulse plugin (libasound2-plugins).
required_packages+=(pulseaudio pulseaudio-utils libasound2-plugins pipewire pipewire-pulse pipewire-jack
    wireplumber dbus-daemon)
# Asio's io_uring backend (preset uring).
required_packages+=(liburing-dev)
# The Windows tier (tests/windows/cross-test.sh): mingw-w64 with POSIX threads, and wine.
required_packages+=(g++-mingw-w64-x86-64-posix wine64)

is_installed() {
    # pkg-config may come as pkgconf or as the transitional pkg-config package.
    if [[ $1 == pkg-config ]]; then
        command -v pkg-config >/dev/null && return 0
    fi
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_updated=no
apt_update_once() {
    if [[ $apt_updated == no ]]; then
        apt-get update || return 1
        apt_updated=yes
    fi
}

# Installs the packages given, or explains how to and fails when we may not.
install_packages() {
    (($# > 0)) || return 0
    if ((EUID != 0)); then
        echo "check.sh: missing packages: $*" >&2
        echo "Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $*" >&2
        exit 1
    fi
    say "installing $*"
    apt_update_once || { echo "check.sh: apt-get update failed" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" </dev/null ||
        { echo "check.sh: apt-get install failed" >&2; exit 1; }
}

# The major version of the clang that is (or would be) installed, or nothing.
clang_major() {
    if command -v clang++ >/dev/null; then
        clang++ --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1
    else
        apt-cache policy clang 2>/dev/null |
            sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9][0-9]*\).*/\2/p' | head -n 1
    fi
}

# The sanitizer runtimes for that clang: Debian packages them apart as
# libclang-rt-N-dev (bookworm: 14); distributions without that package ship
# them inside clang, and nothing more is needed.
clang_runtime_package() {
    local major pkg
    major=$(clang_major)
    [[ -n $major ]] || return 0
    pkg=libclang-rt-${major}-dev
    if is_installed "$pkg" || apt-cache show "$pkg" >/dev/null 2>&1; then
        echo "$pkg"
    elif ((EUID == 0)) && [[ $apt_updated == no ]]; then
        # Maybe only the package lists are missing (a fresh container).
        apt_update_once >/dev/null 2>&1 && apt-cache show "$pkg" >/dev/null 2>&1 && echo "$pkg"
    fi
    return 0
}

missing=()
for pkg in "${required_packages[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done
if ((EUID != 0)) && ! is_installed clang; then
    # Name the runtime now, so that the one apt-get line printed covers it too.
    rt=$(clang_runtime_package)
    [[ -n $rt ]] && ! is_installed "$rt" && missing+=("$rt")
fi
install_packages "${missing[@]}"
rt=$(clang_runtime_package)
if [[ -n $rt ]] && ! is_installed "$rt"; then
    install_packages "$rt"
fi

for tool in cmake ctest g++ clang++ pkg-config jackd jack_lsp valgrind pulseaudio pactl pipewire pw-jack; do
    command -v "$tool" >/dev/null || { echo "check.sh: $tool is still not on PATH" >&2; exit 1; }
done
echo "check.sh: $(cmake --version | head -n 1), $(g++ --version | head -n 1), $(clang++ --version | head -n 1)"

# ---- Dependency sources ---------------------------------------------------------
#
# The Asio releases of the matrix come as tarballs in shared/deps/, beside the
# checkout (never inside it). The asio-1.x presets read them unpacked in
# build/deps/; a preset whose tarball is missing is skipped, and says so.
deps_dir=$(cd .. && pwd)/shared/deps
declare -A skipped=()
unpack_asio() {
    local preset=$1 version
    case $preset in
    asio-1.28) version=1.28.0 ;;
    asio-1.30) version=1.30.2 ;;
    asio-1.38) version=1.38.2 ;;
    *) return 0 ;;
    esac
    [[ -f build/deps/asio-$version/include/asio.hpp ]] && return 0
    if [[ ! -f $deps_dir/asio-$version.tar.gz ]]; then
        skipped[$preset]="skipped: $deps_dir/asio-$version.tar.gz is not there"
        return 1
    fi
    mkdir -p build/deps && tar -xzf "$deps_dir/asio-$version.tar.gz" -C build/deps
}

# ---- Build and test -------------------------------------------------------------

declare -A outcome=() seconds=()
total_passed=0
total_failed=0
failed=no

# Runs configure, build and test for one preset; records how far it got.
run_preset() {
    local preset=$1 start=$SECONDS log
    log="build/check-${preset}.log"
    mkdir -p build

    say "configure $preset"
    if ! cmake --preset "$preset"; then
        outcome[$preset]="FAILED to configure"
        return 1
    fi
    say "build $preset"
    if ! cmake --build --preset "$preset" -j2; then
        outcome[$preset]="FAILED to build"
        seconds[$preset]=$((SECONDS - start))
        return 1
    fi
    say "test $preset"
    # The sanitizer options travel with each test (tests/CMakeLists.txt), so
    # they reach the test programs and not jackd or the compilers. UBSan's are
    # repeated here so that ctest's own children see them as well. PortAudio's
    # ALSA host API prints a line for every device it probes and cannot reach
    # (hundreds per test on a machine without a sound card): they are left out
    # here, and kept in build/<preset>/Testing/Temporary/LastTest.log.
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --preset "$preset" 2>&1 | grep --line-buffered -v '^ALSA lib ' | tee "$log"
    local rc=${PIPESTATUS[0]}
    seconds[$preset]=$((SECONDS - start))

    local line passed=0 fail=0 total=0
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        fail=${BASH_REMATCH[1]}
        total=${BASH_REMATCH[2]}
        passed=$((total - fail))
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + fail))

    if ((rc != 0)); then
        outcome[$preset]="FAILED: $fail of $total tests failed (log: $log)"
        return 1
    fi
    outcome[$preset]="ok: $passed tests passed"
    return 0
}

# io_uring may be compiled out of the kernel, or refused to containers
# (seccomp, kernel.io_uring_disabled): then the uring preset is skipped, not
# failed. The probe asks for a ring the way Asio does.
io_uring_refused() {
    local dir reason
    dir=$(mktemp -d) || return 1
    printf '%s\n' '#include <liburing.h>' '#include <cstdio>' '#include <cstring>' \
        'int main() { io_uring r; int e = io_uring_queue_init(16, &r, 0);' \
        '  if (e < 0) { std::printf("%s\n", std::strerror(-e)); return 1; }' \
        '  io_uring_queue_exit(&r); return 0; }' >"$dir/probe.cpp"
    if ! g++ -o "$dir/probe" "$dir/probe.cpp" -luring 2>"$dir/log"; then
        reason="the io_uring probe did not build: $(head -n 1 "$dir/log")"
    elif ! reason=$("$dir/probe"); then
        reason="the kernel refuses io_uring (io_uring_queue_init: $reason)"
    else
        reason=
    fi
    rm -rf "$dir"
    [[ -n $reason ]] && echo "$reason"
}

for preset in "${presets[@]}"; do
    if [[ $preset == uring ]] && reason=$(io_uring_refused); then
        skipped[$preset]="skipped: $reason"
        say "$preset: ${skipped[$preset]}"
        outcome[$preset]=${skipped[$preset]}
        continue
    fi
    if ! unpack_asio "$preset"; then
        say "$preset: ${skipped[$preset]}"
        outcome[$preset]=${skipped[$preset]}
        continue
    fi
    run_preset "$preset" || failed=yes
done

# What failed, and where, once more at the end, where a CI log is read first.
failure_digest() {
    local preset=$1 log="build/check-$1.log"
    [[ -f $log ]] || return 0
    grep -q -E 'FAILED:|\*\*\*|Failed|ERROR: ' "$log" || return 0
    echo "--- $preset"
    grep -E -A8 'FAILED:$|^[^ ].*ERROR: |^ *[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)\)' "$log" |
        head -n 80
}
if [[ $failed == yes ]]; then
    say "failures"
    for preset in "${presets[@]}"; do failure_digest "$preset"; done
fi

say "summary"
for preset in "${presets[@]}"; do
    printf '  %-9s %-50s %4ss\n' "$preset" "${outcome[$preset]:-not run}" "${seconds[$preset]:-0}"
done
echo "check: $total_passed passed, $total_failed failed, in ${SECONDS}s"
if [[ $failed == yes ]]; then
    exit 1
fi
