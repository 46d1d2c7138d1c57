#!/usr/bin/env bash
# Start or stop a private, headless desktop audio server for coaudio's tests.
#
#   desktop-server.sh pulse|pipewire start <dir>
#   desktop-server.sh pulse|pipewire stop  <dir>
#
# pulse     PulseAudio with only its native protocol and a null sink `loop`
#           (48000 Hz); the default sink is `loop`, the default source is
#           `loop.monitor`, so what is played comes back from the monitor.
# pipewire  A private D-Bus session bus (WirePlumber will not run without
#           one), PipeWire, WirePlumber and pipewire-pulse, with the same
#           null sink `loop` made through pipewire-pulse and the same defaults.
#
# Everything lives in <dir>: the runtime directory <dir>/run (clients set
# XDG_RUNTIME_DIR to it and PULSE_SERVER to unix:<dir>/run/pulse/native), HOME
# for the servers' own state, the logs, and <dir>/pids, one "<program> <pid>"
# line per process started, in start order. Only those processes are ever
# signalled, and only while their command line still names the program.
set -euo pipefail

readonly start_timeout_s=10
readonly stop_timeout_s=3

if [[ $# -ne 3 || ! $1 =~ ^(pulse|pipewire)$ || ! $2 =~ ^(start|stop)$ ]]; then
    sed -n '4,5s/^# */usage: /p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi
kind=$1 action=$2 dir=$3 pids=$3/pids

# What clients need to find this server.
export XDG_RUNTIME_DIR=$dir/run
export PULSE_SERVER=unix:$dir/run/pulse/native

# True while <pid> runs (a zombie counts as gone).
alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0 # no procfs: trust kill -0
    [[ ${stat##*) } != Z* ]]
}

# True while <pid> runs and is <program>: a recycled PID is not ours. (Not
# for a process just launched: until its exec it still looks like this script.)
is_ours() {
    local program=$1 pid=$2
    alive "$pid" || return 1
    [[ -r /proc/$pid/cmdline ]] || return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$program"
}

# Stops every recorded process, last started first.
stop_all() {
    [[ -f $pids ]] || return 0
    local program pid i
    while read -r program pid; do
        if ! is_ours "$program" "$pid"; then
            echo "desktop-server: $program (pid $pid) is not running"
            continue
        fi
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < stop_timeout_s * 10; i++)); do
            is_ours "$program" "$pid" || break
            sleep 0.1
        done
        if is_ours "$program" "$pid"; then
            echo "desktop-server: $program (pid $pid) survived SIGTERM, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "desktop-server: stopped $program (pid $pid)"
    done < <(tac "$pids")
    rm -f "$pids"
}

# Starts <program> [args...] in the background, its output in <dir>/<program>.log.
launch() {
    local program=$1
    # Not our stdout: ctest waits for every holder of a test's pipes, and the
    # server must outlive the fixture's start step.
    HOME=$dir "$@" </dev/null >"$dir/$program.log" 2>&1 &
    echo "$program $!" >>"$pids"
}

fail_start() {
    echo "desktop-server: $kind: $*" >&2
    local log
    for log in "$dir"/*.log; do
        [[ -s $log ]] && { echo "----- $log" >&2; tail -n 20 "$log" >&2; }
    done
    stop_all || true
    exit 1
}

# Waits until pactl reaches the server and every recorded process still runs.
wait_for_server() {
    local i program pid
    for ((i = 0; i < start_timeout_s * 10; i++)); do
        while read -r program pid; do
            alive "$pid" || fail_start "$program exited during start-up"
        done <"$pids"
        timeout 2 pactl info >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail_start "pactl did not reach the server within ${start_timeout_s}s"
}

wait_for_socket() {
    local i
    for ((i = 0; i < start_timeout_s * 10; i++)); do
        [[ -S $1 ]] && return 0
        sleep 0.1
    done
    fail_start "no socket $1 after ${start_timeout_s}s"
}

start_pulse() {
    cat >"$dir/default.pa" <<'EOF'
load-module module-native-protocol-unix
load-module module-null-sink sink_name=loop rate=48000
set-default-sink loop
set-default-source loop.monitor
EOF
    launch pulseaudio -n -F "$dir/default.pa" --daemonize=no --exit-idle-time=-1
    wait_for_server
}

start_pipewire() {
    local bus=unix:path=$dir/run/bus
    launch dbus-daemon --session --address="$bus" --nofork --nopidfile --nosyslog
    wait_for_socket "$dir/run/bus"
    export DBUS_SESSION_BUS_ADDRESS=$bus
    launch pipewire
    wait_for_socket "$dir/run/pipewire-0"
    launch wireplumber
    launch pipewire-pulse
    wait_for_server
    pactl load-module module-null-sink sink_name=loop rate=48000 >/dev/null ||
        fail_start "cannot load module-null-sink"
    # WirePlumber applies a default only once it knows the node.
    local i
    for ((i = 0; i < start_timeout_s * 10; i++)); do
        pactl set-default-sink loop 2>/dev/null && pactl set-default-source loop.monitor 2>/dev/null &&
            pactl info 2>/dev/null | grep -q '^Default Source: loop.monitor$' && return 0
        sleep 0.1
    done
    fail_start "the null sink did not become the default"
}

case $action in
start)
    stop_all # whatever an interrupted run left behind
    rm -rf "$dir/run"
    mkdir -p "$dir"
    mkdir -m 700 "$dir/run"
    command -v pactl >/dev/null || fail_start "pactl not found (Debian: pulseaudio-utils)"
    "start_$kind"
    echo "desktop-server: started $kind in $dir: $(tr '\n' ' ' <"$pids")"
    ;;
stop) stop_all ;;
esac
