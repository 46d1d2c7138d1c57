#!/usr/bin/env bash
# Builds the level meter and runs it: the first thing to try with coaudio.
#
#   bash examples/run-meter.sh [--jack] [meter options]
#
# 1. On Debian or Ubuntu, installs what the build needs when run as root,
#    and otherwise prints the one apt-get line to run.
# 2. Builds examples/meter and examples/tone (Release, no tests) in
#    build/run-meter.
# 3. Runs the meter on the default capture device: speak, and watch.
#    When the machine has no capture device at all (a headless server, CI),
#    or with --jack, it starts a private JACK server with the dummy driver,
#    plays a 1 kHz test tone at amplitude 0.5 through it with `tone`, routes
#    the tone into the meter's input and meters that: RMS -9.0 dBFS, peak
#    -6.0 dBFS. Whatever it started is stopped when the meter exits.
#
# q, Ctrl-C or SIGTERM quit. Other options go to the meter (--device,
# --channels, --rate, --block, --list; see `build/run-meter/examples/meter --help`).
#
# Environment:
#   COAUDIO_EXAMPLES_BIN     directory holding built meter and tone: skips steps 1-2
#   COAUDIO_METER_JACK_NAME  name of the private JACK server (default coaudio-meter-<pid>)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

say() { printf 'run-meter: %s\n' "$*" >&2; }
usage() { sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

use_jack=no
device_given=no
meter_args=()
for arg in "$@"; do
    case $arg in
    --jack) use_jack=yes ;;
    -h | --help) usage; exit 0 ;;
    --device | --device=*) device_given=yes; meter_args+=("$arg") ;;
    *) meter_args+=("$arg") ;;
    esac
done

# ---- Packages ----------------------------------------------------------------------

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Installs the Debian packages given that are missing, or says how to and exits.
ensure_packages() {
    command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || return 0 # not Debian: let cmake tell
    local missing=() pkg
    for pkg in "$@"; do is_installed "$pkg" || missing+=("$pkg"); done
    ((${#missing[@]} == 0)) && return 0
    if ((EUID != 0)); then
        say "missing packages: ${missing[*]}. Install them with:"
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } \
        </dev/null || { say "apt-get failed"; exit 1; }
}

# ---- Build -------------------------------------------------------------------------

bin=${COAUDIO_EXAMPLES_BIN:-}
if [[ -z $bin ]]; then
    ensure_packages cmake make g++ pkg-config portaudio19-dev libasio-dev
    build_dir=build/run-meter
    mkdir -p "$build_dir"
    say "building the meter in $build_dir (the first build takes a minute)"
    if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCOAUDIO_BUILD_TESTS=OFF \
        -DCOAUDIO_INSTALL=OFF && cmake --build "$build_dir" --target coaudio_example_meter coaudio_example_tone \
        -j "$(nproc 2>/dev/null || echo 2)"; } >"$build_dir/run-meter-build.log" 2>&1; then
        tail -n 40 "$build_dir/run-meter-build.log" >&2
        say "the build failed; the whole log is in $build_dir/run-meter-build.log"
        exit 1
    fi
    bin=$build_dir/examples
fi
meter=$bin/meter
tone=$bin/tone
[[ -x $meter && -x $tone ]] || { say "no meter and tone programs in $bin"; exit 1; }

# ---- The meter on a real device ------------------------------------------------------

if [[ $use_jack == no ]]; then
    "$meter" "${meter_args[@]}"
    status=$?
    # 2: no capture device could be opened. Fall back only when none was named.
    if [[ $status != 2 || $device_given == yes ]]; then
        exit "$status"
    fi
    say "no capture device here: metering a test tone through a private JACK server instead"
fi

# ---- Or on a test tone through a private JACK server ---------------------------------

ensure_packages jackd2
for tool in jackd jack_lsp jack_connect; do
    command -v "$tool" >/dev/null || { say "$tool not found: install JACK (jackd2)"; exit 1; }
done

export JACK_DEFAULT_SERVER=${COAUDIO_METER_JACK_NAME:-coaudio-meter-$$}
export JACK_NO_START_SERVER=1
work=$(mktemp -d "${TMPDIR:-/tmp}/coaudio-run-meter.XXXXXX")
jackd_pid= tone_pid= patcher_pid=

# SIGTERM, then SIGKILL after <seconds>; only ever the PIDs started below.
stop_pid() {
    local pid=$1 seconds=$2 i
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
cleanup() {
    stop_pid "$patcher_pid" 1
    stop_pid "$tone_pid" 3
    stop_pid "$jackd_pid" 3 # clients first, then the server
    [[ -n $jackd_pid ]] && say "stopped the test tone and the JACK server $JACK_DEFAULT_SERVER"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# setsid: a Ctrl-C meant for the meter must not reach the server or the tone;
# they are stopped in order by cleanup.
setsid jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 -C 2 -P 2 \
    </dev/null >"$work/jackd.log" 2>&1 &
jackd_pid=$!
for ((i = 0; ; i++)); do
    timeout 5 jack_lsp >/dev/null 2>&1 && break
    if ((i >= 100)) || ! kill -0 "$jackd_pid" 2>/dev/null; then
        cat "$work/jackd.log" >&2
        say "the JACK server did not start"
        exit 1
    fi
    sleep 0.1
done

device=$("$meter" --list 2>/dev/null | awk '/JACK Audio Connection Kit/ && $2 > 0 { print $1; exit }')
[[ -n $device ]] || { "$meter" --list; say "PortAudio does not see the JACK server"; exit 1; }

setsid "$tone" --device "$device" --freq 1000 --amplitude 0.5 --seconds 0 </dev/null >"$work/tone.log" 2>&1 &
tone_pid=$!
tone_port=
for ((i = 0; i < 100; i++)); do
    sleep 0.1
    tone_port=$(jack_lsp 2>/dev/null | grep -E '^PortAudio[^:]*:out_0$' | head -n 1)
    [[ -n $tone_port ]] && break
done
[[ -n $tone_port ]] || { cat "$work/tone.log" >&2; say "the test tone did not start"; exit 1; }
tone_client=${tone_port%%:*}

# Connects the tone to every PortAudio input port it does not feed yet: the
# meter's ports appear once it has opened its stream.
(
    trap 'exit 0' TERM
    while :; do
        jack_lsp -c 2>/dev/null | awk -v src="$tone_port" -v self="$tone_client:" '
            /^[^ \t]/ { flush(); port = $0; fed = 0; next }
            { sub(/^[ \t]+/, ""); if ($0 == src) fed = 1 }
            END { flush() }
            function flush() {
                if (port ~ /^PortAudio[^:]*:in_[0-9]+$/ && index(port, self) != 1 && !fed) print port
                port = ""
            }' | while read -r port; do jack_connect "$tone_port" "$port" >/dev/null 2>&1; done
        sleep 0.2
    done
) </dev/null >/dev/null 2>&1 &
patcher_pid=$!

say "JACK server $JACK_DEFAULT_SERVER (dummy driver, 48 kHz) is up; tone plays 1 kHz at amplitude 0.5"
say "into the meter: expect RMS -9.0 dBFS and peak -6.0 dBFS. q quits."
# While the meter runs, Ctrl-C is the meter's to handle: the script carries on
# to clean up and passes on the meter's status.
trap 'true' INT
"$meter" --device "$device" "${meter_args[@]}"
status=$?
trap 'exit 130' INT
exit "$status"
