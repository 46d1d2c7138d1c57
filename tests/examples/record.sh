#!/usr/bin/env bash
# The record example on JACK, with a 0.5-amplitude 1 kHz sine routed in.
#
#   record.sh <record> <tone> <meter>
#
# Files are read back with soxi and sox, as a user would:
#   - 16-bit (the default) and --float: `--seconds 2` exits 0 and writes a
#     WAV file of 2 channels, 48000 Hz, that encoding, exactly 96000 frames;
#     the second half of each channel (the tone is connected by then) has
#     RMS -9.03 and peak -6.02 dBFS (±0.5 dB);
#   - SIGINT ends a long recording early with exit 0, "stopped early", and a
#     file whose header holds the frames reported;
#   - SIGKILL 1.5 s into a recording leaves a file that plays at least 1.0 s:
#     the header is kept up to date while recording;
#   - a file that cannot be created: exit 1, one line that names the path,
#     with no doubled "record: record:";
#   - `ulimit -n 8`: exit 2, and the message says the limit on open files
#     is the problem, not that the machine has no audio input;
#   - no output file is a usage error (64).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || fail "usage: $0 <record> <tone> <meter>"
record=$1
tone=$2
meter=$3
command -v soxi >/dev/null && command -v sox >/dev/null || fail "soxi and sox not found (install sox)"

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher

"$record" --device "$device" --seconds 2 "$work_dir/s16.wav" </dev/null 2>&1 || fail "16-bit: exit status $?"
check_wav "$work_dir/s16.wav" "Signed Integer PCM" 16 96000
"$record" --device "$device" --seconds 2 --float "$work_dir/f32.wav" </dev/null 2>&1 || fail "float: exit status $?"
check_wav "$work_dir/f32.wav" "Floating Point PCM" 32 96000

# wait_for_start <log> <pid>: until the recording's banner is out.
wait_for_start() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^record: .* s from device' "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    cat "$1" >&2
    fail "record did not start"
}

"$record" --device "$device" --seconds 60 "$work_dir/long.wav" </dev/null >"$work_dir/long.txt" 2>&1 &
pid=$!
wait_for_start "$work_dir/long.txt" "$pid"
sleep 2
kill -INT "$pid"
wait "$pid"
status=$?
cat "$work_dir/long.txt"
[[ $status == 0 ]] || fail "SIGINT: exit status $status, expected 0"
frames=$(sed -nE 's/^record: wrote ([0-9]+) frames.*stopped early$/\1/p' "$work_dir/long.txt")
[[ -n $frames ]] && ((frames > 24000 && frames < 2880000)) || fail "SIGINT: no 'stopped early' report"
[[ $(soxi -s "$work_dir/long.wav" 2>/dev/null) == "$frames" ]] || fail "SIGINT: the header does not hold $frames frames"

# Killed: nothing gets to finish the header.
"$record" --device "$device" --seconds 60 "$work_dir/killed.wav" </dev/null >"$work_dir/killed.txt" 2>&1 &
pid=$!
wait_for_start "$work_dir/killed.txt" "$pid"
sleep 1.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null
frames=$(soxi -s "$work_dir/killed.wav" 2>/dev/null)
bytes=$(stat -c %s "$work_dir/killed.wav")
note "SIGKILL after 1.5 s: the header holds ${frames:-no} frames; the file has $bytes bytes"
[[ -n $frames ]] && ((frames >= 48000)) || fail "SIGKILL after 1.5 s: the file plays ${frames:-0} frames, expected at least 48000 (1.0 s)"

# expect_error <status> <pattern> <args...>: exit status and one line on stderr.
expect_error() {
    local want=$1 pattern=$2 status
    shift 2
    "$record" "$@" </dev/null >/dev/null 2>"$work_dir/err"
    status=$?
    note "record $* -> exit $status: $(cat "$work_dir/err")"
    [[ $status == "$want" ]] || fail "record $*: exit status $status, expected $want"
    grep -Eq -- "$pattern" "$work_dir/err" || fail "record $*: standard error does not match '$pattern'"
    [[ $(wc -l <"$work_dir/err") == 1 ]] || fail "record $*: $(wc -l <"$work_dir/err") lines on standard error, expected 1"
    grep -q 'record: record:' "$work_dir/err" && fail "record $*: a doubled prefix"
    return 0
}
expect_error 1 "^record: cannot create $work_dir/no/such/dir/x.wav: No such file or directory" \
    --device "$device" --seconds 1 "$work_dir/no/such/dir/x.wav"
[[ -e $work_dir/no ]] && fail "a directory appeared"
(ulimit -n 8 && timeout -k 1 30 "$record" --seconds 1 "$work_dir/fds.wav" </dev/null >/dev/null 2>"$work_dir/err")
status=$?
note "ulimit -n 8 -> exit $status: $(cat "$work_dir/err")"
[[ $status == 2 ]] || fail "ulimit -n 8: exit status $status, expected 2"
grep -q 'ulimit -n' "$work_dir/err" || fail "ulimit -n 8: the message does not name the limit on open files"
grep -q 'no audio input on this machine' "$work_dir/err" && fail "ulimit -n 8: blamed on the machine"
expect_error 64 "^record: no FILE given" --seconds 1

echo "PASS: record writes 16-bit and float WAV files at the levels played; SIGINT ends early cleanly; a killed recording plays"
