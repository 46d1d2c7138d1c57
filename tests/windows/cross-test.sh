#!/usr/bin/env bash
# coaudio on Windows, checked from Linux: cross-builds PortAudio and coaudio's
# unit and concurrent tests (which use the virtual device, so no sound card)
# with mingw-w64, and runs every test program under wine.
#
#   tests/windows/cross-test.sh [build-dir]     default: <checkout>/build/windows
#
# Needs x86_64-w64-mingw32-g++-posix and -gcc-posix, cmake, wine64 and the
# pristine sources asio-1.38.2.tar.gz and portaudio-19.7.0.tar.gz in
# <checkout>/../shared/deps (or $COAUDIO_DEPS_DIR), plus Catch2 2's single
# header (/usr/include/catch2/catch.hpp, or $COAUDIO_CATCH2_HEADER). When any
# of them is missing it prints coaudio-test-skipped and exits 0. With
# libsndfile's header (/usr/include/sndfile.h, or $COAUDIO_SNDFILE_HEADER) it
# also compiles the examples play_file and record, without linking them.
#
# Environment: JOBS (parallel compiles, default 2), WINE (the wine64 loader,
# default /usr/lib/wine/wine64 or wine64 on PATH), COAUDIO_TEST_TIMEOUT
# (seconds per test program, default 900).
#
# Then, when PulseAudio is installed, real audio: wine's winepulse driver
# reaches a private headless PulseAudio server (tests/pulse/desktop-server.sh)
# whose null sink wine lists as "Null Output". tests/windows/desktop_test.cpp
# plays a 1 kHz tone into it and reads it back from its monitor through
# PortAudio's WASAPI, DirectSound and MME hosts; the server is SIGKILLed under
# a pending read and write on each host (both must fail within the stall
# timeout, and stop, close and the destructors return at once), restarted,
# and a new process streams again; and the examples tone and meter play and
# measure a tone as a user runs them. COAUDIO_TEST_WINE_AUDIO=OFF skips it.
#
# Exit status: 0 when every test program passed, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/../.." && pwd)
deps=${COAUDIO_DEPS_DIR:-$checkout/../shared/deps}
build=${1:-$checkout/build/windows}
jobs=${JOBS:-2}
timeout_s=${COAUDIO_TEST_TIMEOUT:-900}
catch_header=${COAUDIO_CATCH2_HEADER:-/usr/include/catch2/catch.hpp}
triplet=x86_64-w64-mingw32
cxx=$triplet-g++-posix
cc=$triplet-gcc-posix

skip() {
    echo "coaudio-test-skipped: $*"
    exit 0
}

# Tests that cannot run on Windows, and why. They are left out, not weakened.
declare -A windows_skips=(
    [concurrent_audio_thread_contract_test]="interposes glibc's malloc family (__libc_malloc), pthread_mutex_lock and write(2) through dlsym(RTLD_NEXT), which neither the Windows CRT nor the PE loader offer"
    # Not POSIX-only, but its premise is: it steps the virtual device from
    # the io thread and counts on a rung doorbell waking the parked operation
    # within one turn of the io_context, as Asio's reactor (epoll, kqueue)
    # does. On Windows the wait completes through Asio's wait thread
    # (RegisterWaitForSingleObject), so stepping can outrun the wake-up: under
    # wine it failed 3 runs in 8 with underflows at blocks of 480 and 1024.
    [unit_large_transfer_test]="assumes a doorbell wakes its operation within one turn of the io_context; on Windows the wake-up comes through Asio's wait thread, so stepping the virtual device can outrun it (fails about 1 run in 3 under wine)"
)

# Tests built with the fewer iterations they already take for slow
# environments (sanitizers). The lockstep wake-up cases of the bridge test
# park on every block, and under wine each doorbell round trip (SetEvent,
# Asio's RegisterWaitForSingleObject wait, the completion) takes about 1 ms
# against microseconds on Linux: 100,000 blocks would outlast the test's
# 30-second watchdog, 20,000 do not. Same assertions, fewer blocks.
declare -A windows_test_flags=(
    [concurrent_bridge_test]="-DCOAUDIO_TEST_SLOW=1"
)

# ---- What it needs -------------------------------------------------------------

for tool in "$cxx" "$cc" cmake; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (Debian: g++-mingw-w64-x86-64-posix cmake)"
done
if [[ -z ${WINE:-} ]]; then
    if [[ -x /usr/lib/wine/wine64 ]]; then
        WINE=/usr/lib/wine/wine64
    elif command -v wine64 >/dev/null 2>&1; then
        WINE=$(command -v wine64)
    else
        skip "wine64 not found (Debian: wine64)"
    fi
fi
wineserver=$(dirname "$WINE")/wineserver
[[ -x $wineserver ]] || wineserver=$(command -v wineserver || command -v wineserver64 || true)
[[ -n $wineserver ]] || skip "wineserver not found beside $WINE"
asio_tar=$deps/asio-1.38.2.tar.gz
pa_tar=$deps/portaudio-19.7.0.tar.gz
for f in "$asio_tar" "$pa_tar" "$catch_header"; do
    [[ -f $f ]] || skip "$f not found"
done

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

mkdir -p "$build"
build=$(cd "$build" && pwd)
started=$(date +%s)

# ---- Sources: unpacked into the build tree, never into the checkout ------------

unpack() { # tarball, folder it makes
    if [[ ! -f $build/deps/$2/.unpacked ]]; then
        rm -rf "${build:?}/deps/$2"
        mkdir -p "$build/deps"
        tar -C "$build/deps" -xzf "$1"
        touch "$build/deps/$2/.unpacked"
    fi
}
unpack "$asio_tar" asio-1.38.2
unpack "$pa_tar" portaudio-19.7.0
mkdir -p "$build/catch2/catch2"
ln -sf "$catch_header" "$build/catch2/catch2/catch.hpp"

# ---- PortAudio 19.7.0, static, with the hosts its CMake offers mingw ------------

pa_src=$build/deps/portaudio-19.7.0
pa_build=$build/portaudio
if [[ ! -f $pa_build/libportaudio.a ]]; then
    echo "== PortAudio 19.7.0 (static; WMME, DirectSound, WASAPI, WDM-KS)"
    cmake -S "$pa_src" -B "$pa_build" "${generator[@]}" \
        -DCMAKE_TOOLCHAIN_FILE="$checkout/cmake/toolchains/$triplet.cmake" \
        -DCMAKE_BUILD_TYPE=Release \
        -DPA_BUILD_SHARED=OFF -DPA_BUILD_STATIC=ON \
        -DPA_USE_ASIO=OFF \
        -DPA_USE_WMME=ON -DPA_USE_DS=ON -DPA_USE_WASAPI=ON -DPA_USE_WDMKS=ON >"$build/portaudio-configure.log"
    cmake --build "$pa_build" -j "$jobs" >"$build/portaudio-build.log"
fi
pa_built=$(date +%s)

# ---- coaudio's tests, one program per file, as tests/CMakeLists.txt does ---------
#
# A generated Makefile: make gives the parallel, incremental build, and -MMD
# the header dependencies.

tests=()
for f in "$checkout"/tests/unit/*.cpp "$checkout"/tests/concurrent/*.cpp; do
    dir=$(basename "$(dirname "$f")")
    name=${dir}_$(basename "$f" .cpp)
    if [[ -n ${windows_skips[$name]:-} ]]; then
        continue
    fi
    tests+=("$name:$f")
done

# Real audio under wine (see the top): built always, run with a server.
desktop_tests=("windows_desktop_test:$checkout/tests/windows/desktop_test.cpp")

# The examples that need nothing but coaudio. play_file and record need
# libsndfile, which is not built for mingw here: they (and coaudio/sndfile.hpp)
# are compiled against libsndfile's header, a plain C header the same on every
# platform, and not linked.
examples=()
sndfile_examples=()
sndfile_header=${COAUDIO_SNDFILE_HEADER:-/usr/include/sndfile.h}
for f in "$checkout"/examples/[0-9]_*/*.cpp; do
    name=$(basename "$f" .cpp)
    case $name in
    play_file | record) sndfile_examples+=("$name:$f") ;;
    *) examples+=("$name:$f") ;;
    esac
done
mkdir -p "$build/sndfile"
if [[ -f $sndfile_header ]]; then
    ln -sf "$sndfile_header" "$build/sndfile/sndfile.h"
else
    echo "NOTE $sndfile_header not found: play_file and record are not compiled"
    sndfile_examples=()
fi

obj=$build/obj
mkdir -p "$obj" "$build/bin" "$build/examples"
makefile=$build/tests.mk
# The rules for one program: executable, object, source, extra flags, extra objects.
program_rules() {
    echo "all: $1"
    echo "$2: $3"
    echo "	\$(CXX) \$(CXXFLAGS) $4 -MMD -MP -c -o \$@ \$<"
    echo "$1: $2 $5 $pa_build/libportaudio.a"
    echo "	\$(CXX) \$(LDFLAGS) -o \$@ $2 $5 \$(LDLIBS)"
}
# -Wno-mismatched-new-delete: GCC 12 at -O2 takes Asio's awaitable frames,
# allocated by asio::aligned_new and freed by the frame's own sized operator
# delete, for a mismatch once enough is inlined (seen in unit_stall_test);
# both ends are Asio's, and the pair matches.
{
    echo "CXX := $cxx"
    echo "CXXFLAGS := -std=c++20 -O2 -pthread -Wall -Wextra -Wpedantic -Werror -Wno-mismatched-new-delete -Wa,-mbig-obj \\"
    echo "    -D_WIN32_WINNT=0x0A00 -I$checkout/include -I$checkout/tests \\"
    echo "    -isystem $build/deps/asio-1.38.2/include -isystem $pa_src/include -isystem $build/catch2"
    echo "LDFLAGS := -static -static-libgcc -static-libstdc++ -pthread"
    echo "LDLIBS := $pa_build/libportaudio.a -lwinmm -ldsound -lsetupapi -lole32 -luuid -lws2_32 -lmswsock"
    echo "all:"
    echo "$obj/catch_main.o: $checkout/tests/support/catch_main.cpp"
    echo "	\$(CXX) \$(CXXFLAGS) -MMD -MP -c -o \$@ \$<"
    for t in "${tests[@]}"; do
        program_rules "$build/bin/${t%%:*}.exe" "$obj/${t%%:*}.o" "${t#*:}" \
            "${windows_test_flags[${t%%:*}]:-}" "$obj/catch_main.o"
    done
    for t in "${desktop_tests[@]}"; do
        program_rules "$build/bin/${t%%:*}.exe" "$obj/${t%%:*}.o" "${t#*:}" "" "$obj/catch_main.o"
    done
    for e in "${examples[@]}"; do
        program_rules "$build/examples/${e%%:*}.exe" "$obj/example_${e%%:*}.o" "${e#*:}" \
            "-I$checkout/examples" ""
    done
    for e in "${sndfile_examples[@]}"; do
        echo "all: $obj/example_${e%%:*}.o"
        echo "$obj/example_${e%%:*}.o: ${e#*:}"
        echo "	\$(CXX) \$(CXXFLAGS) -I$checkout/examples -isystem $build/sndfile -MMD -MP -c -o \$@ \$<"
    done
    echo "-include $obj/*.d"
} >"$makefile"

echo "== coaudio tests (${#tests[@]} programs) and examples (${#examples[@]}, and ${#sndfile_examples[@]}" \
    "compiled only), mingw-w64 $($cxx -dumpfullversion), -j$jobs"
make -f "$makefile" -j "$jobs" --no-print-directory all
built=$(date +%s)

# ---- Under wine ----------------------------------------------------------------

export WINEPREFIX=$build/wineprefix
export WINEDEBUG=-all
# No Mono or Gecko installers: console programs need neither.
export WINEDLLOVERRIDES="mscoree,mshtml="
if [[ ! -f $WINEPREFIX/system.reg ]]; then
    echo "== wine prefix $WINEPREFIX"
    "$WINE" wineboot -i >"$build/wineboot.log" 2>&1 || true
    # wineboot returns before the server has written the registry out.
    "$wineserver" -w || true
    [[ -f $WINEPREFIX/system.reg ]] || {
        echo "wineboot could not create $WINEPREFIX; see $build/wineboot.log"
        exit 1
    }
fi
prefix_ready=$(date +%s)

echo "== running under $("$WINE" --version 2>/dev/null || echo wine)"
failed=()
mkdir -p "$build/logs"
for t in "${tests[@]}"; do
    name=${t%%:*}
    log=$build/logs/$name.log
    t0=$(date +%s)
    status=0
    (cd "$build/bin" && timeout "$timeout_s" "$WINE" "$name.exe") >"$log" 2>&1 || status=$?
    t1=$(date +%s)
    summary=$(grep -E "^(All tests passed|test cases:)" "$log" | tail -n 1 || true)
    if [[ $status -eq 0 ]]; then
        printf 'PASS %-36s %4ss  %s\n' "$name" $((t1 - t0)) "$summary"
    else
        printf 'FAIL %-36s %4ss  exit %s  %s  (log: %s)\n' "$name" $((t1 - t0)) "$status" "$summary" "$log"
        failed+=("$name")
    fi
done
finished=$(date +%s)

# What PortAudio finds under wine: no test depends on it, it is reported.
run_example() { # program, arguments...
    local program=$1 status=0
    shift
    (cd "$build/examples" && timeout 120 "$WINE" "$program.exe" "$@" </dev/null) \
        >"$build/logs/example.log" 2>&1 || status=$?
    echo "-- $program $* (exit $status)"
    sed 's/^/   /' "$build/logs/example.log"
}
echo "== examples under wine"
run_example meter --help
run_example meter --list
run_example devices

# ---- Real audio under wine: winepulse and a private PulseAudio server ----------

wine_audio_started=$(date +%s)
pulse_dir=$build/pulse
# One server at a time; the last one started is stopped on any exit.
pulse() { bash "$checkout/tests/pulse/desktop-server.sh" pulse "$1" "$pulse_dir" >>"$build/logs/pulse.log" 2>&1; }
trap '[[ -f $pulse_dir/pids ]] && pulse stop' EXIT

# A desktop test case under wine; its log is kept, its verdict printed.
desktop_case() { # label, log name, Catch2 filter
    local status=0 t0
    t0=$(date +%s)
    (cd "$build/bin" && timeout 120 "$WINE" windows_desktop_test.exe "$3") >"$build/logs/$2.log" 2>&1 || status=$?
    report_case "$1" "$2" "$status" "$t0"
}
report_case() { # label, log name, exit status, start time
    local log=$build/logs/$2.log
    if [[ $3 -eq 0 ]]; then
        printf 'PASS %-44s %4ss\n' "$1" $(($(date +%s) - $4))
    else
        printf 'FAIL %-44s %4ss  exit %s  (log: %s)\n' "$1" $(($(date +%s) - $4)) "$3" "$log"
        failed+=("$1")
    fi
    grep -E '^(output|input|loopback|flowing|.*: read ended|stop )' "$log" | sed 's/^/     /' || true
}

# The meter in a console (wine's, on a tmux terminal), as a user runs it: it
# shows its bars and the keys it reads, and `q` quits it with status 0.
meter_keys() { # capture device index
    local session=coaudio-wine-meter-$$ status_file=$build/logs/meter-keys.status t0 status=""
    local screen=$build/logs/meter-keys.screen
    rm -f "$status_file"
    t0=$(date +%s)
    # A tmux server of its own, and the environment said outright: a
    # running server would give the session its own environment instead.
    local tm=(tmux -L "$session")
    "${tm[@]}" new-session -d -s "$session" -x 100 -y 20 \
        "cd '$build/examples' && env WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' \
         PULSE_SERVER='$PULSE_SERVER' '$WINE' meter.exe --device $1 --interval 250; echo \$? > '$status_file'"
    # The bars are up once the device line is drawn.
    for _ in $(seq 300); do
        "${tm[@]}" capture-pane -p -t "$session" >"$screen" 2>/dev/null || break
        grep -q 'q quits' "$screen" && grep -q 'running' "$screen" && break
        sleep 0.1
    done
    "${tm[@]}" send-keys -t "$session" q
    for _ in $(seq 100); do
        [[ -s $status_file ]] && break
        sleep 0.1
    done
    [[ -s $status_file ]] && status=$(cat "$status_file")
    "${tm[@]}" kill-server 2>/dev/null || true
    if grep -q 'q quits' "$screen" && [[ $status == 0 ]]; then
        printf 'PASS %-44s %4ss\n' "meter in a console: shows its keys, q quits" $(($(date +%s) - t0))
    else
        printf 'FAIL %-44s %4ss  exit %s  (screen: %s)\n' "meter in a console: shows its keys, q quits" \
            $(($(date +%s) - t0)) "${status:-none}" "$screen"
        failed+=("meter keys")
    fi
}

# The server is SIGKILLed once the program says both directions flow and a
# read and a write are pending.
server_loss_case() { # host API
    local name log status=0 t0 pid
    name="server killed: $1"
    log=$build/logs/server-loss-${1// /-}.log
    t0=$(date +%s)
    pulse start || return 1
    (cd "$build/bin" && COAUDIO_WINE_HOST_API="$1" timeout 120 "$WINE" windows_desktop_test.exe "[server_loss]") \
        >"$log" 2>&1 &
    local wine_pid=$!
    for _ in $(seq 600); do
        grep -q coaudio-ready-for-kill "$log" 2>/dev/null && break
        kill -0 "$wine_pid" 2>/dev/null || break
        sleep 0.05
    done
    pid=$(awk '$1 == "pulseaudio" {print $2}' "$pulse_dir/pids")
    [[ -n $pid ]] && kill -KILL "$pid"
    wait "$wine_pid" || status=$?
    pulse stop
    report_case "$name" "server-loss-${1// /-}" "$status" "$t0"
}

if [[ ${COAUDIO_TEST_WINE_AUDIO:-ON} == OFF ]]; then
    echo "== real audio under wine: skipped (COAUDIO_TEST_WINE_AUDIO=OFF)"
elif ! command -v pulseaudio >/dev/null 2>&1 || ! command -v pactl >/dev/null 2>&1; then
    echo "== real audio under wine: skipped: no pulseaudio or pactl (Debian: pulseaudio pulseaudio-utils)"
else
    echo "== real audio under wine: winepulse on a private PulseAudio server"
    rm -rf "$pulse_dir"
    mkdir -p "$pulse_dir"
    export XDG_RUNTIME_DIR=$pulse_dir/run PULSE_SERVER=unix:$pulse_dir/run/pulse/native
    if pulse start; then
        desktop_case "tone loopback: WASAPI" loopback-wasapi "[wasapi]"
        desktop_case "tone loopback: DirectSound" loopback-directsound "[directsound]"
        desktop_case "tone loopback: MME" loopback-mme "[mme]"
        # The examples, as a user runs them: tone plays into the sink, the
        # meter (its output a pipe, so plain lines) reads the monitor.
        devices_list=$(cd "$build/examples" && timeout 60 "$WINE" devices.exe </dev/null 2>&1 || true)
        sink=$(sed -n 's/^[<> ]*\([0-9]\+\) Null Output, Windows WASAPI.*/\1/p' <<<"$devices_list")
        monitor=$(sed -n 's/^[<> ]*\([0-9]\+\) Monitor of Null Output, Windows WASAPI.*/\1/p' <<<"$devices_list")
        t0=$(date +%s)
        status=0
        (cd "$build/examples" && timeout 60 "$WINE" tone.exe --device "$sink" --amplitude 0.5 --freq 1000 \
            --channels 2 --rate 48000 --seconds 6 </dev/null) >"$build/logs/example-tone.log" 2>&1 &
        tone_pid=$!
        sleep 1
        (cd "$build/examples" && timeout 60 "$WINE" meter.exe --device "$monitor" --seconds 3 </dev/null) \
            >"$build/logs/example-meter.log" 2>&1 || status=$?
        wait "$tone_pid" || status=$?
        # Three one-second lines; the last has heard the tone throughout:
        # a 0.5 sine reads -9.03 dBFS RMS and -6.02 dBFS peak.
        last=$(grep -i 'rms' "$build/logs/example-meter.log" | tail -n 1)
        if [[ $status -eq 0 ]] && awk -v line="$last" 'BEGIN {
            if (match(line, /[Rr][Mm][Ss][=: ]+-?[0-9.]+/) == 0) exit 1
            split(substr(line, RSTART, RLENGTH), a, /[=: ]+/); rms = a[2] + 0
            if (match(line, /[Pp][Ee][Aa][Kk][=: ]+-?[0-9.]+/) == 0) exit 1
            split(substr(line, RSTART, RLENGTH), b, /[=: ]+/); peak = b[2] + 0
            exit !((rms + 9.03) ^ 2 < 0.25 && (peak + 6.02) ^ 2 < 0.25) }'; then
            printf 'PASS %-44s %4ss\n' "examples: tone into the sink, meter reads it" $(($(date +%s) - t0))
        else
            printf 'FAIL %-44s %4ss  exit %s  (logs: %s)\n' "examples: tone into the sink, meter reads it" \
                $(($(date +%s) - t0)) "$status" "$build/logs/example-{tone,meter}.log"
            failed+=("examples: tone and meter")
        fi
        sed 's/^/     /' "$build/logs/example-meter.log"
        if command -v tmux >/dev/null 2>&1; then
            meter_keys "$monitor"
        else
            echo "SKIP meter keys in a console: no tmux"
        fi
        pulse stop
        for host in "Windows WASAPI" "Windows DirectSound" "MME"; do
            server_loss_case "$host"
        done
        # After the losses, a new server and a new process stream again.
        pulse start && desktop_case "after a restart, a new process streams" loopback-after-restart "[wasapi]"
        pulse stop
    else
        echo "FAIL the private PulseAudio server did not start (log: $build/logs/pulse.log)"
        failed+=("pulse server")
    fi
fi
wine_audio_finished=$(date +%s)

for name in "${!windows_skips[@]}"; do
    echo "SKIP $name: ${windows_skips[$name]}"
done
for name in "${!windows_test_flags[@]}"; do
    echo "NOTE $name built with ${windows_test_flags[$name]} (see the top of this script)"
done
echo "== times: PortAudio $((pa_built - started))s, tests build $((built - pa_built))s," \
    "wine prefix $((prefix_ready - built))s, wine run $((finished - prefix_ready))s," \
    "real audio $((wine_audio_finished - wine_audio_started))s"
if ((${#failed[@]} > 0)); then
    echo "== ${#failed[@]} failed under wine: ${failed[*]}"
    exit 1
fi
echo "== all ${#tests[@]} test programs passed under wine"
