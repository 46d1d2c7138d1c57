#!/usr/bin/env bash
# The examples as Unix tools, on the JACK test server.
#
#   unix.sh <examples-dir>
#
#   - a closed pipe: `meter | head -1` and `capture | head -1` end within 2 s,
#     with status 0 (or 141, as a shell reports SIGPIPE), and say nothing;
#   - the audio libraries' chatter: no example prints an `ALSA lib` line or
#     JACK's "Cannot connect to server" (devices, also with no server to
#     reach; capture, tone, record, play_file, passthrough, oneshot, meter);
#     `devices --verbose` does show them, so this test can see them at all
#     (skipped where this machine's ALSA has nothing to say);
#   - play_file reads a pipe: `cat f.wav | play_file /dev/stdin` plays all
#     24000 frames and says done; a file cut short, as a file and through a
#     pipe, plays what there is, with a warning that names it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <examples-dir>"
dir=$1
command -v sox >/dev/null || fail "sox not found (install sox)"

ensure_jack_server
device=$(jack_device_index "$dir/meter")

# ---- A reader that goes away --------------------------------------------------------

# closed_pipe <seconds-at-most> <program> <args...>
closed_pipe() {
    local most=$1 start elapsed status
    shift
    start=$(date +%s.%N)
    timeout -k 1 10 "$dir/$1" "${@:2}" </dev/null 2>"$work_dir/err" | head -n 1 >"$work_dir/out"
    status=${PIPESTATUS[0]}
    elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
    note "$* | head -1: exit $status after $elapsed s: $(cat "$work_dir/out")"
    [[ -s $work_dir/out ]] || fail "$*: printed nothing"
    [[ $status == 0 || $status == 141 ]] || fail "$* | head -1: exit status $status, expected 0 or 141 (124: still running after 10 s)"
    awk -v e="$elapsed" -v m="$most" 'BEGIN { exit !(e < m) }' || fail "$* | head -1 took $elapsed s, more than $most s"
    [[ -s $work_dir/err ]] && fail "$* | head -1: said $(cat "$work_dir/err")"
    return 0
}
closed_pipe 2 meter --device "$device"
closed_pipe 2 capture --device "$device"

# ---- Chatter ---------------------------------------------------------------------------

chatter='ALSA lib|Cannot connect to server|jack server is not running|JackShm'
# quiet <program> <args...>: runs it, both outputs together, and looks for chatter.
quiet() {
    timeout -k 1 30 "$dir/$1" "${@:2}" </dev/null >"$work_dir/all" 2>&1
    note "$*: exit $?, $(wc -l <"$work_dir/all") lines"
    if grep -Eq "$chatter" "$work_dir/all"; then
        grep -E "$chatter" "$work_dir/all" | head -n 5 >&2
        fail "$*: the audio libraries' probing reached the terminal"
    fi
    return 0
}
sox -n -r 48000 -c 2 -b 16 "$work_dir/f.wav" synth 0.5 sine 1000 vol 0.5
quiet devices
quiet capture --device "$device"
quiet tone --device "$device" --seconds 0.2
quiet record --device "$device" --seconds 0.2 "$work_dir/r.wav"
quiet play_file --device "$device" "$work_dir/f.wav"
quiet passthrough --device "$device" --seconds 0.2
quiet oneshot --device "$device" --seconds 0.2
quiet meter --device "$device" --seconds 0.2
JACK_DEFAULT_SERVER="coaudio-no-such-server-$$" quiet devices
if JACK_DEFAULT_SERVER="coaudio-no-such-server-$$" "$dir/devices" --verbose 2>&1 | grep -Eq "$chatter"; then
    note "devices --verbose lets the chatter through, as it should"
else
    note "SKIPPED: ALSA and JACK say nothing on this machine, even with --verbose"
fi

# ---- play_file and pipes ---------------------------------------------------------------
shopt -s lastpipe # `cat f | play ...` runs play in this shell, which keeps its status

# play <args...>: play_file's standard output and error in $work_dir/out and err.
play() {
    timeout -k 1 30 "$dir/play_file" --device "$device" "$@" >"$work_dir/out" 2>"$work_dir/err"
    status=$?
    note "play_file $*: exit $status"
    sed 's/^/   | /' "$work_dir/out" "$work_dir/err"
}
cat "$work_dir/f.wav" | play /dev/stdin
[[ $status == 0 ]] || fail "play_file from a pipe: exit status $status"
grep -q '^play_file: done after .*: 24000 frames played' "$work_dir/out" || fail "play_file from a pipe did not play 24000 frames"
[[ -s $work_dir/err ]] && fail "play_file from a pipe: said $(cat "$work_dir/err")"

head -c 50044 "$work_dir/f.wav" >"$work_dir/cut.wav" # 44 bytes of header, 12500 frames
play "$work_dir/cut.wav"
[[ $status == 0 ]] || fail "a file cut short: exit status $status"
grep -q "^play_file: warning: $work_dir/cut.wav is shorter than its header says: 0.260 s of 0.500 s" "$work_dir/err" ||
    fail "a file cut short: no warning"
cat "$work_dir/cut.wav" | play /dev/stdin
[[ $status == 0 ]] || fail "a file cut short, through a pipe: exit status $status"
grep -q "^play_file: warning: /dev/stdin is shorter than its header says: 0.260 s of 0.500 s" "$work_dir/err" ||
    fail "a file cut short, through a pipe: no warning"

echo "PASS: the examples stop on a closed pipe, keep the audio libraries quiet, and play_file reads pipes"
