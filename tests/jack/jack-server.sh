#!/usr/bin/env bash
# Start or stop the private JACK server that coaudio's integration tests play into.
#
#   jack-server.sh start <name> <pidfile> <logfile>
#   jack-server.sh stop  <name> <pidfile> [<logfile>]
#
# The server runs the dummy driver (no sound card needed) under a name of its own,
# so it never meets a user's JACK server or another build's. Only the process
# recorded in <pidfile> is ever signalled; nothing is killed by name.
#
# Environment: JACKD and JACK_LSP override the programs used.
set -euo pipefail

readonly start_timeout_s=10
readonly stop_timeout_s=3
JACKD=${JACKD:-jackd}
JACK_LSP=${JACK_LSP:-jack_lsp}

usage() {
    echo "usage: $0 start|stop <server-name> <pidfile> <logfile>" >&2
    exit 2
}

[[ $# -ge 3 ]] || usage
action=$1
name=$2
pidfile=$3
logfile=${4:-}

# Clients must never start a server of their own behind our back.
export JACK_NO_START_SERVER=1

server_answers() {
    JACK_DEFAULT_SERVER=$name timeout 5 "$JACK_LSP" >/dev/null 2>&1
}

# True while <pid> runs. A zombie (our own child that exited and is not yet
# reaped) counts as gone.
alive() {
    local pid=$1 stat
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0 # no procfs: trust kill -0
    [[ ${stat##*) } != Z* ]]
}

# True when <pid> is alive and is our jackd (guards against a recycled PID).
is_our_server() {
    local pid=$1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    [[ -r /proc/$pid/cmdline ]] || return 0 # no procfs: trust the pidfile
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-n $name "
}

# Waits up to <seconds> for <pid> to exit. Returns 1 if it is still alive.
wait_for_exit() {
    local pid=$1 seconds=$2 i
    for ((i = 0; i < seconds * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    ! alive "$pid"
}

print_log() {
    if [[ -n $logfile && -s $logfile ]]; then
        echo "----- $logfile -----" >&2
        tail -n 50 "$logfile" >&2
        echo "-----" >&2
    fi
}

stop_server() {
    [[ -f $pidfile ]] || { echo "jack-server: no server recorded in $pidfile"; return 0; }
    local pid
    pid=$(<"$pidfile")
    if ! is_our_server "$pid"; then
        echo "jack-server: recorded server $name (pid $pid) is not running"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for_exit "$pid" "$stop_timeout_s"; then
        # jackd may ignore SIGTERM while clients are still attached.
        echo "jack-server: $name (pid $pid) survived SIGTERM for ${stop_timeout_s}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for_exit "$pid" 2 || { echo "jack-server: pid $pid will not die" >&2; return 1; }
    fi
    rm -f "$pidfile"
    echo "jack-server: stopped $name (pid $pid)"
}

start_server() {
    [[ -n $logfile ]] || usage
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"

    # A server left behind by an interrupted run of this build goes first.
    if [[ -f $pidfile ]]; then
        stop_server
    fi
    if server_answers; then
        # Someone else's server under our name: use it, but do not own it.
        echo "jack-server: a server named $name is already running and was not started" \
            "by this script; the tests will use it and 'stop' will leave it alone"
        return 0
    fi

    command -v "$JACKD" >/dev/null || { echo "jack-server: $JACKD not found (install jackd2)" >&2; exit 1; }
    command -v "$JACK_LSP" >/dev/null || { echo "jack-server: $JACK_LSP not found (install jackd2)" >&2; exit 1; }

    # Output goes to the log, not to our stdout: ctest waits for every holder of
    # the test's pipes to exit, and jackd must outlive this test.
    JACK_DEFAULT_SERVER=$name "$JACKD" --no-realtime -n "$name" \
        -d dummy -r 48000 -p 256 -C 2 -P 2 </dev/null >"$logfile" 2>&1 &
    local pid=$!
    echo "$pid" >"$pidfile"

    local i
    for ((i = 0; i < start_timeout_s * 10; i++)); do
        if ! alive "$pid"; then
            echo "jack-server: jackd for $name exited during start-up" >&2
            print_log
            rm -f "$pidfile"
            exit 1
        fi
        if server_answers; then
            echo "jack-server: started $name (pid $pid, dummy driver, 48000 Hz, 256 frames, 2 in/2 out)"
            return 0
        fi
        sleep 0.1
    done

    echo "jack-server: $name did not answer jack_lsp within ${start_timeout_s}s" >&2
    print_log
    stop_server || true
    exit 1
}

case $action in
start) start_server ;;
stop) stop_server ;;
*) usage ;;
esac
