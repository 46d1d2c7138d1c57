#!/usr/bin/env bash
# The meter with standard output not a terminal: one plain line per interval.
#
#   meter_plain.sh <meter> <tone>
#
# With a 0.5-amplitude 1 kHz sine routed into its inputs (JACK):
#   - `--interval 100 --seconds 3` exits 0 and prints a '#' header naming the
#     device, then lines of the documented form, with times 100 ms apart
#     (steady: no gap over 250 ms, about 30 lines), then a '# stopped' summary;
#   - once the tone is connected, every line reads RMS -9.03 and peak -6.02
#     dBFS (±0.5 dB) on both channels, hold tracks the peak, clip=0,0;
#   - no escape sequence reaches the output;
#   - at the default terminal rate (`--interval 33.333`) 2 s give about 60
#     lines, also with 4096-frame blocks (85 ms, longer than the interval),
#     whose last line still reads the sine's levels;
#   - a device that fails to open (more channels than it has): exit 2 and a
#     message that names the device and the problem.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <meter> <tone>"
meter=$1
tone=$2

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher

out="$work_dir/plain.txt"
"$meter" --device "$device" --interval 100 --seconds 3 </dev/null >"$out" 2>"$work_dir/plain.err"
status=$?
cat "$out"
[[ $status == 0 ]] || { cat "$work_dir/plain.err" >&2; fail "exit status $status, expected 0"; }

grep -q $'\x1b' "$out" && fail "escape sequences in plain output"
head -n 1 "$out" | grep -Eq "^# coaudio meter: device $device \"system\" \(JACK Audio Connection Kit\), 48000 Hz, 2 channels, .*latency [0-9.]+ ms$" ||
    fail "the first line is not the header"
# What the host really uses, not the request (0) or a latency of 0.0 that looks measured.
jack_period=$(timeout -k 1 5 jack_bufsize 2>/dev/null | grep -Eo '[0-9]+' | head -n 1)
[[ -n $jack_period ]] || fail "jack_bufsize does not tell the server's period"
head -n 1 "$out" | grep -q ", block $jack_period frames, " || fail "the header does not give the server's block size"
head -n 1 "$out" | grep -Eq ", input latency ([1-9][0-9]*\.[0-9]|0\.[1-9]) ms$" ||
    fail "the header gives no measured input latency"
tail -n 1 "$out" | grep -Eq '^# stopped after [0-9.]+ s: frames=[0-9]+ overflows=[0-9]+ dropped=[0-9]+$' ||
    fail "the last line is not the summary"

db='(-?[0-9]+\.[0-9]+|-inf)'
line_re="^time=[0-9]+\.[0-9]{3} rms=$db,$db peak=$db,$db hold=$db,$db clip=[01],[01] overflows=[0-9]+ dropped=[0-9]+$"
data=$(grep -v '^#' "$out")
bad=$(grep -Ev "$line_re" <<<"$data")
[[ -z $bad ]] || fail "lines not of the documented form: $bad"
count=$(wc -l <<<"$data")
((count >= 25 && count <= 31)) || fail "$count lines in 3 s at 100 ms, expected about 30"

# Steady: consecutive times 100 ms apart, never a gap over 250 ms.
awk -F'[= ]' '{ t = $2; if (NR > 1 && t - prev > 0.25) { print "gap of " t - prev " s before time=" t; bad = 1 } prev = t }
    END { exit bad }' <<<"$data" || fail "the lines do not come at a steady rate"

# The tone is connected within a few hundred ms; judge the last 20 lines.
judged=$(tail -n 20 <<<"$data")
while IFS= read -r line; do
    for key in rms peak hold; do
        values=$(sed -nE "s/.* $key=([^ ]+) .*/\1/p" <<<"$line")
        [[ $key == rms ]] && expected=-9.03 || expected=-6.02
        for v in ${values//,/ }; do
            within "$v" "$expected" 0.5 || fail "$key=$values, expected $expected ±0.5 dBFS in: $line"
        done
    done
    grep -q ' clip=0,0 ' <<<"$line" || fail "a -6 dBFS sine is marked as clipping: $line"
done <<<"$judged"
last=$(tail -n 1 <<<"$data")
note "last line: $last"

# The default redraw rate of a terminal, about 30 a second.
"$meter" --device "$device" --interval 33.333 --seconds 2 </dev/null >"$work_dir/fast.txt" 2>&1 ||
    fail "exit status $? at --interval 33.333"
fast=$(grep -c '^time=' "$work_dir/fast.txt")
((fast >= 50 && fast <= 61)) || fail "$fast lines in 2 s at 33.3 ms, expected about 60"
note "$fast lines in 2 s at --interval 33.333"

"$meter" --device "$device" --block 4096 --interval 33.333 --seconds 2 </dev/null >"$work_dir/block.txt" 2>&1 ||
    fail "exit status $? with --block 4096"
grep -q '^# coaudio meter: .*, block 4096 frames,' "$work_dir/block.txt" || fail "the header does not give the block size"
slow=$(grep -c '^time=' "$work_dir/block.txt")
((slow >= 50 && slow <= 61)) || fail "$slow lines in 2 s at 33.3 ms with 4096-frame blocks, expected about 60"
last=$(grep '^time=' "$work_dir/block.txt" | tail -n 1)
for v in $(sed -nE 's/.* rms=([^ ]+) .*/\1/p' <<<"$last" | tr , ' '); do
    within "$v" -9.03 0.5 || fail "--block 4096: RMS $v in: $last"
done
note "$slow lines in 2 s with 4096-frame blocks; last: $last"

# A device that exists but cannot open as asked.
"$meter" --device "$device" --channels 8 </dev/null >/dev/null 2>"$work_dir/open.err"
status=$?
sed 's/^/   | /' "$work_dir/open.err"
[[ $status == 2 ]] || fail "--channels 8: exit status $status, expected 2"
grep -Eq "^meter: cannot open device $device \(system, JACK Audio Connection Kit\) with 8 channels.*: invalid channel count \(it has 2 input channels\)" \
    "$work_dir/open.err" || fail "--channels 8: the message does not name the device and the problem"

echo "PASS: plain output: header, $count steady lines at -9.03/-6.02 dBFS, summary; $fast and $slow lines at 30 Hz"
