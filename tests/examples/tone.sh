#!/usr/bin/env bash
# The tone example on JACK.
#
#   tone.sh <tone> <meter>
#
#   - `--seconds 1`: exits 0 after the last block has been played: it takes
#     at least 1 s, reports "done" with exactly 48000 frames played;
#   - `--seconds 0`: plays until SIGTERM, then exits 0 reporting "stopped";
#   - what it plays is what was asked: the meter (plain mode) reads a 0.25
#     sine at RMS -15.05 and peak -12.04 dBFS (±0.5 dB);
#   - an unknown device: exit 2 naming it; a bad amplitude: exit 64.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <tone> <meter>"
tone=$1
meter=$2

ensure_jack_server
device=$(jack_device_index "$meter")

start=$(date +%s.%N)
"$tone" --device "$device" --seconds 1 --freq 1000 --amplitude 0.2 </dev/null >"$work_dir/tone1.txt" 2>&1
status=$?
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
cat "$work_dir/tone1.txt"
[[ $status == 0 ]] || fail "--seconds 1: exit status $status"
awk -v e="$elapsed" 'BEGIN { exit !(e >= 1.0 && e < 5.0) }' || fail "--seconds 1 took $elapsed s"
grep -Eq '^tone: done after [0-9.]+ s: 48000 frames played' "$work_dir/tone1.txt" ||
    fail "--seconds 1 did not report 48000 frames played"
note "--seconds 1: exit 0 after $elapsed s, 48000 frames played"

# Until stopped, at 0.25: measured by the meter.
start_tone "$tone" "$device" 0.25
start_patcher
"$meter" --device "$device" --interval 100 --seconds 2 </dev/null >"$work_dir/meter.txt" 2>&1 ||
    fail "the meter failed: $(cat "$work_dir/meter.txt")"
last=$(grep '^time=' "$work_dir/meter.txt" | tail -n 1)
note "meter: $last"
rms=$(sed -nE 's/.* rms=([^,]+),.*/\1/p' <<<"$last")
peak=$(sed -nE 's/.* peak=([^,]+),.*/\1/p' <<<"$last")
within "$rms" -15.05 0.5 || fail "RMS $rms, expected -15.05 ±0.5 dBFS"
within "$peak" -12.04 0.5 || fail "peak $peak, expected -12.04 ±0.5 dBFS"

kill -TERM "$tone_pid"
wait "$tone_pid"
status=$?
tone_pid=
cat "$work_dir/tone.log"
[[ $status == 0 ]] || fail "SIGTERM: exit status $status, expected 0"
grep -q '^tone: stopped after' "$work_dir/tone.log" || fail "SIGTERM: no 'stopped' report"
note "--seconds 0 + SIGTERM: exit 0"

"$tone" --device no-such-device-zq9 </dev/null >/dev/null 2>"$work_dir/err"
status=$?
[[ $status == 2 ]] || fail "unknown device: exit status $status, expected 2"
grep -q 'no-such-device-zq9' "$work_dir/err" || fail "unknown device: the message does not name it"
"$tone" --amplitude 3 </dev/null >/dev/null 2>&1
status=$?
[[ $status == 64 ]] || fail "--amplitude 3: exit status $status, expected 64"

echo "PASS: tone plays what is asked, ends after the last block, stops on SIGTERM"
