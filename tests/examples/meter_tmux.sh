#!/usr/bin/env bash
# The meter on a real terminal: tmux runs it against a JACK server with a
# 0.5-amplitude 1 kHz sine routed into its inputs, and reads the screen.
#
#   meter_tmux.sh <meter> <tone>
#
# Checks, for each way of quitting (q, Ctrl-C, SIGTERM), and for an error
# (the meter's own JACK server killed under it, exit status 1):
#   - the screen shows the header (device, host API, rate, block, latency),
#     the counters, and for both channels RMS -9.0 and peak -6.0 dBFS (±0.5 dB);
#   - the cursor is hidden while the meter runs;
#   - the meter exits with status 0 (1 for the error, with a message);
#   - the terminal is left usable: echo and canonical mode back on (stty),
#     cursor visible, and a line typed afterwards is read normally (this
#     fails if standard input was left non-blocking).
# Exit status 77 (skipped) when tmux is not installed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <meter> <tone>"
meter=$1
tone=$2
require_tmux

readonly expected_rms=-9.03 expected_peak=-6.02 tolerance=0.5

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher

start_tmux

# What runs in the pane: the meter, then a report of its status and of the
# terminal it left behind, then a line read from the terminal.
cat >"$work_dir/pane.sh" <<'EOF'
dir=$1
shift
"$@"
echo "meter-status=$?"
stty -a >"$dir/stty.txt" 2>&1
echo "cursor-check"
line=$(head -n 1)
echo "read-status=$? line=$line"
exec sleep 600
EOF

# Waits until both channels show the sine's levels, then checks the rest of the screen.
check_levels() {
    local window=$1 line
    wait_for_levels "$window" $expected_rms $expected_peak $tolerance
    screen "$window" >"$work_dir/$window.screen"
    cat "$work_dir/$window.screen"
    ((levels_ok == 2)) || fail "$window: levels never reached RMS $expected_rms and peak $expected_peak dBFS (±$tolerance)"
    for ch in 1 2; do
        line=$(grep -E "^ +$ch \[" "$work_dir/$window.screen")
        note "$window: channel $ch: $(sed -nE 's/.*\] (rms.*)/\1/p' <<<"$line")"
    done
    grep -Eq "^device $device: system +\(JACK Audio Connection Kit\)" "$work_dir/$window.screen" ||
        fail "$window: the header does not name the device and host API"
    grep -Eq "^48000 Hz, 2 channels, block .*, input latency [0-9.]+ ms" "$work_dir/$window.screen" ||
        fail "$window: the header does not give rate, channels, block size and latency"
    grep -Eq "^overflows [0-9]+ +dropped frames [0-9]+" "$work_dir/$window.screen" ||
        fail "$window: the counters line is missing"
    grep -q "CLIP" "$work_dir/$window.screen" && fail "$window: a -6 dBFS sine is marked as clipping"
    [[ $(tm display-message -p -t "$window" '#{cursor_flag}') == 0 ]] ||
        fail "$window: the cursor is visible while the meter runs"
}

# Checks what the pane reports after the meter has gone.
check_exit() {
    local window=$1 how=$2 want=${3:-0}
    wait_for_screen "$window" 'meter-status=[0-9]+' 10 || fail "$window: the meter did not exit after $how"
    local status
    status=$(screen "$window" | sed -nE 's/.*meter-status=([0-9]+).*/\1/p' | head -n 1)
    [[ $status == "$want" ]] || fail "$window: exit status $status after $how, expected $want"
    note "$window: exit status $status after $how"

    wait_for_screen "$window" 'cursor-check' 5 || fail "$window: the pane script stalled"
    local stty_out
    stty_out=$(cat "$work_dir/stty.txt")
    grep -Eq '(^| )-echo( |$)' <<<"$stty_out" && fail "$window: echo left off after $how"
    grep -Eq '(^| )-icanon( |$)' <<<"$stty_out" && fail "$window: canonical mode left off after $how"
    grep -Eq '(^| )echo( |$)' <<<"$stty_out" || fail "$window: stty -a shows no echo: $stty_out"
    [[ $(tm display-message -p -t "$window" '#{cursor_flag}') == 1 ]] ||
        fail "$window: the cursor is still hidden after $how"

    tm send-keys -t "$window" 'typed-after' Enter
    wait_for_screen "$window" 'read-status=0 line=typed-after' 5 ||
        fail "$window: the terminal does not read a line normally after $how"
    note "$window: terminal restored (echo, icanon, cursor, blocking reads)"
    rm -f "$work_dir/stty.txt"
}

# start_window <name> [<JACK server>]: the meter in a new window, on the
# fixture's server or on the one named.
start_window() {
    local window=$1 server=${2:-$JACK_DEFAULT_SERVER}
    local command="env JACK_DEFAULT_SERVER=$server bash $work_dir/pane.sh $work_dir $meter --device $device"
    if ! tm has-session -t meter 2>/dev/null; then
        tm new-session -d -s meter -n "$window" -x 110 -y 30 "$command"
    else
        tm new-window -t meter -n "$window" "$command"
    fi
    wait_for_screen "$window" '^coaudio meter' 10 || fail "$window: the meter did not start"
}

# 1. q
start_window quit-q
check_levels quit-q
tm send-keys -t quit-q q
check_exit quit-q "q"
tm kill-window -t quit-q

# 2. Ctrl-C: SIGINT from the terminal, as a user sends it
start_window quit-ctrl-c
check_levels quit-ctrl-c
tm send-keys -t quit-ctrl-c C-c
check_exit quit-ctrl-c "Ctrl-C"
tm kill-window -t quit-ctrl-c

# 3. SIGTERM to the meter's PID (the child of the pane's shell)
start_window quit-sigterm
check_levels quit-sigterm
pane_pid=$(tm display-message -p -t quit-sigterm '#{pane_pid}')
meter_pid=$(ps -o pid= --ppid "$pane_pid" | tr -d ' ' | head -n 1)
[[ -n $meter_pid ]] || fail "cannot find the meter's PID under the pane's shell ($pane_pid)"
kill -TERM "$meter_pid"
check_exit quit-sigterm "SIGTERM"
tm kill-window -t quit-sigterm

# 4. An error while running: a JACK server of the test's own, killed under the meter.
# A fixed name: JACK keeps a killed server's registry slot (eight in all)
# until a server of the same name starts again, which the end of this step does.
lost_server="coaudio-meter-lost"
"$JACKD" --no-realtime -n "$lost_server" -d dummy -r 48000 -p 256 -C 2 -P 2 </dev/null \
    >"$work_dir/lost-jackd.log" 2>&1 &
lost_pid=$!
cleanup_hooks+=('stop_pid "$lost_pid" 3')
for ((i = 0; i < 100; i++)); do
    JACK_DEFAULT_SERVER=$lost_server jack_answers && break
    sleep 0.1
done
JACK_DEFAULT_SERVER=$lost_server jack_answers || fail "the test's own JACK server did not start"
start_window device-lost "$lost_server"
wait_for_screen device-lost '^overflows [0-9]+' 10 || fail "device-lost: the meter does not draw"
stop_pid "$lost_pid" 3
check_exit device-lost "its JACK server was killed" 1
screen device-lost | grep -q '^meter: capture stopped: ' || fail "device-lost: no message saying why"
note "device-lost: $(screen device-lost | grep '^meter: capture stopped: ')"
tm kill-window -t device-lost
"$JACKD" --no-realtime -n "$lost_server" -d dummy -r 48000 -p 256 -C 2 -P 2 </dev/null \
    >>"$work_dir/lost-jackd.log" 2>&1 &
lost_pid=$!
for ((i = 0; i < 100; i++)); do
    JACK_DEFAULT_SERVER=$lost_server jack_answers && break
    sleep 0.1
done
stop_pid "$lost_pid" 3

echo "PASS: meter in tmux: levels, header, counters; q, Ctrl-C and SIGTERM exit 0, a lost server exits 1; the terminal is restored every time"
