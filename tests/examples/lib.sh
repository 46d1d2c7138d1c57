# Shared by the example tests (sourced, not run): a JACK server to play
# into, a 1 kHz test tone from examples/tone, and a patcher that routes the
# tone into every PortAudio input port that appears, the way a user would
# with a patchbay.
#
# Under ctest the `jack` fixture has started a server and JACK_DEFAULT_SERVER
# names it. Run by hand, a script starts a private server of its own
# (dummy driver, 48 kHz) and stops it on exit. Only processes started here
# are ever signalled, by their PIDs.

set -uo pipefail

export JACK_NO_START_SERVER=1
JACKD=${JACKD:-jackd}
JACK_LSP=${JACK_LSP:-jack_lsp}
JACK_CONNECT=${JACK_CONNECT:-jack_connect}

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/coaudio-example-test.XXXXXX")
own_jackd_pid=
tone_pid=
tone_client=
patcher_pid=
cleanup_hooks=()

note() { printf -- '-- %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [[ -s $work_dir/patcher.log ]]; then # what was routed when, for a missing signal
        echo "-- the patcher's last lines:" >&2
        tail -n 5 "$work_dir/patcher.log" | sed 's/^/   | /' >&2
    fi
    exit 1
}

# Sends SIGTERM to <pid>, then SIGKILL after <seconds>; reaps it if it is ours.
stop_pid() {
    local pid=$1 seconds=${2:-3} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local hook
    for hook in "${cleanup_hooks[@]}"; do eval "$hook"; done
    stop_pid "$patcher_pid" 1
    stop_pid "$tone_pid" 3
    stop_pid "$own_jackd_pid" 3 # clients first, then the server
    if [[ -n ${KEEP_WORK_DIR:-} ]]; then
        echo "work files kept in $work_dir"
    else
        rm -rf "$work_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

jack_answers() { timeout -k 1 5 "$JACK_LSP" >/dev/null 2>&1; } # -k: libjack may block SIGTERM

# Uses the server JACK_DEFAULT_SERVER names if it answers, else starts one.
ensure_jack_server() {
    command -v "$JACK_LSP" >/dev/null || fail "$JACK_LSP not found (install jackd2)"
    if [[ -n ${JACK_DEFAULT_SERVER:-} ]] && jack_answers; then
        note "using JACK server $JACK_DEFAULT_SERVER"
        return
    fi
    command -v "$JACKD" >/dev/null || fail "$JACKD not found (install jackd2)"
    export JACK_DEFAULT_SERVER="coaudio-examples-$$"
    "$JACKD" --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 -C 2 -P 2 \
        </dev/null >"$work_dir/jackd.log" 2>&1 &
    own_jackd_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do
        jack_answers && { note "started JACK server $JACK_DEFAULT_SERVER (pid $own_jackd_pid)"; return; }
        kill -0 "$own_jackd_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work_dir/jackd.log" >&2
    fail "could not start a JACK server"
}

# The PortAudio index of the JACK device that has inputs, from `meter --list`.
jack_device_index() {
    local meter=$1 index
    index=$("$meter" --list | awk '/JACK Audio Connection Kit/ && $2 > 0 { print $1; exit }')
    [[ -n $index ]] || {
        "$meter" --list >&2
        fail "meter --list shows no JACK device with inputs"
    }
    echo "$index"
}

portaudio_out_ports() { timeout -k 1 5 "$JACK_LSP" 2>/dev/null | grep -E '^PortAudio[^:]*:out_[0-9]+$' || true; }

# Starts `tone` forever on <device> at <amplitude>; waits for its JACK port
# and sets tone_pid and tone_client (e.g. PortAudio, or PortAudio-01).
start_tone() {
    local tone=$1 device=$2 amplitude=$3 before after port i
    before=$(portaudio_out_ports)
    "$tone" --device "$device" --freq 1000 --amplitude "$amplitude" --seconds 0 \
        </dev/null >"$work_dir/tone.log" 2>&1 &
    tone_pid=$!
    for ((i = 0; i < 100; i++)); do
        after=$(portaudio_out_ports)
        port=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | head -n 1)
        if [[ -n $port ]]; then
            tone_client=${port%%:*}
            note "tone (pid $tone_pid) plays 1 kHz at amplitude $amplitude from $port"
            return
        fi
        kill -0 "$tone_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work_dir/tone.log" >&2
    # Whether it hung or died, for whoever reads the log.
    if kill -0 "$tone_pid" 2>/dev/null; then
        note "tone (pid $tone_pid) still runs: $(tr '\0' ' ' <"/proc/$tone_pid/cmdline" 2>/dev/null)" \
            "state $(awk '/^State:/ {print $2}' "/proc/$tone_pid/status" 2>/dev/null)," \
            "threads $(ls "/proc/$tone_pid/task" 2>/dev/null | wc -l)"
        timeout -k 1 5 "$JACK_LSP" 2>/dev/null | sed 's/^/   jack port: /' >&2 || true
    else
        wait "$tone_pid"
        note "tone (pid $tone_pid) exited with status $?"
    fi
    fail "the tone's JACK port did not appear"
}

# In the background, connects the tone's first port to every PortAudio input
# port of another client that it does not feed yet, ten times a second. Port
# names come back when a program restarts, so connections, not names, are tracked.
# Each JACK tool gets a time limit and the patcher writes to a log of its own,
# so that a tool stuck in libjack neither stops the patching nor holds the
# test's output open.
start_patcher() {
    local source="$tone_client:out_0"
    (
        trap 'exit 0' TERM
        while :; do
            timeout -k 1 2 "$JACK_LSP" -c 2>/dev/null | awk -v src="$source" -v self="$tone_client" '
                /^[^ \t]/ { flush(); port = $0; fed = 0; next }
                { sub(/^[ \t]+/, ""); if ($0 == src) fed = 1 }
                END { flush() }
                function flush() {
                    if (port ~ /^PortAudio[^:]*:in_[0-9]+$/ && index(port, self ":") != 1 && !fed) print port
                    port = ""
                }' | while read -r port; do
                timeout -k 1 2 "$JACK_CONNECT" "$source" "$port" >/dev/null 2>&1
                status=$? # 124: timed out; else the port may have gone meanwhile
                echo "$(date +%T.%N | cut -c1-12) jack_connect $source $port: exit $status"
            done
            sleep 0.1
        done
    ) </dev/null >"$work_dir/patcher.log" 2>&1 &
    patcher_pid=$!
}

# abs_diff_ok <value> <expected> <tolerance>: true when |value - expected| <= tolerance.
within() {
    awk -v v="$1" -v e="$2" -v t="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(v != "" && v != "-inf" && d <= t) }'
}

# ---- tmux --------------------------------------------------------------------------

# Exits 77 (skipped) when tmux is not installed.
require_tmux() {
    command -v tmux >/dev/null && return 0
    echo "SKIP: tmux is not installed"
    exit 77
}

# A tmux server of our own, with no user configuration, on a socket in the
# work directory; killed on exit.
start_tmux() {
    tmux_socket="$work_dir/tmux.sock"
    cleanup_hooks+=('tm kill-server 2>/dev/null || true')
}
tm() { tmux -S "$tmux_socket" -f /dev/null "$@"; }
screen() { tm capture-pane -p -t "$1"; }

# Waits up to <seconds> for <pattern> (an ERE) on the screen of <window>.
wait_for_screen() {
    local window=$1 pattern=$2 seconds=$3 i
    for ((i = 0; i < seconds * 10; i++)); do
        screen "$window" | grep -Eq -- "$pattern" && return 0
        sleep 0.1
    done
    echo "----- screen of $window -----" >&2
    screen "$window" >&2
    echo "-----" >&2
    return 1
}

# wait_for_levels <window> <rms> <peak> <tolerance>: waits up to 10 s for the
# meter's rows of channels 1 and 2 to show those levels; sets levels_ok to
# the number of channels that do.
wait_for_levels() {
    local window=$1 want_rms=$2 want_peak=$3 tolerance=$4 i ch line rms peak
    for ((i = 0; i < 100; i++)); do
        levels_ok=0
        for ch in 1 2; do
            line=$(screen "$window" | grep -E "^ +$ch \[" | head -n 1)
            rms=$(sed -nE 's/.* rms +(-?[0-9.]+|-inf) .*/\1/p' <<<"$line")
            peak=$(sed -nE 's/.* peak +(-?[0-9.]+|-inf) .*/\1/p' <<<"$line")
            within "$rms" "$want_rms" "$tolerance" && within "$peak" "$want_peak" "$tolerance" &&
                levels_ok=$((levels_ok + 1))
        done
        ((levels_ok == 2)) && return 0
        sleep 0.1
    done
    return 1
}

# check_wav <file> <encoding> <bits> <frames>: what soxi reads of a 2-channel
# 48 kHz WAV file, and the levels of the 0.5 sine in its second half (sox).
check_wav() {
    local file=$1 encoding=$2 bits=$3 frames=$4 ch levels rms peak
    [[ $(soxi -t "$file" 2>/dev/null) == wav ]] || fail "$file: not a WAV file"
    [[ $(soxi -e "$file" 2>/dev/null) == "$encoding" ]] || fail "$file: encoding $(soxi -e "$file" 2>/dev/null), expected $encoding"
    [[ $(soxi -b "$file" 2>/dev/null) == "$bits" ]] || fail "$file: $(soxi -b "$file" 2>/dev/null) bits, expected $bits"
    [[ $(soxi -c "$file" 2>/dev/null) == 2 ]] || fail "$file: $(soxi -c "$file" 2>/dev/null) channels, expected 2"
    [[ $(soxi -r "$file" 2>/dev/null) == 48000 ]] || fail "$file: rate $(soxi -r "$file" 2>/dev/null), expected 48000"
    [[ $(soxi -s "$file" 2>/dev/null) == "$frames" ]] || fail "$file: $(soxi -s "$file" 2>/dev/null) frames, expected $frames"
    for ch in 1 2; do
        levels=$(sox "$file" -n trim "$((frames / 2))s" remix "$ch" stats 2>&1)
        rms=$(awk '/^RMS lev dB/ { print $4 }' <<<"$levels")
        peak=$(awk '/^Pk lev dB/ { print $4 }' <<<"$levels")
        note "$file: $encoding, $bits bits, $frames frames; channel $ch: rms $rms, peak $peak dBFS"
        within "$rms" -9.03 0.5 || fail "$file: channel $ch RMS $rms, expected -9.03 ±0.5 dBFS"
        within "$peak" -6.02 0.5 || fail "$file: channel $ch peak $peak, expected -6.02 ±0.5 dBFS"
    done
}
