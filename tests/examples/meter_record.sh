#!/usr/bin/env bash
# The meter and a recorder sharing one capture: `meter --record FILE`.
#
#   meter_record.sh <meter> <tone>
#
# With a 0.5-amplitude 1 kHz sine routed into its inputs (JACK):
#   - `--interval 100 --seconds 3 --record take.wav` exits 0, prints the
#     plain lines as without --record, at the sine's levels (RMS -9.03, peak
#     -6.02 dBFS ±0.5), and ends with "meter: recorded N frames (S s) to FILE";
#   - the file is a 16-bit 2-channel 48 kHz WAV of exactly N frames, about
#     3 s, whose second half holds the same tone at the same levels (sox);
#   - N is no more than the frames the stream captured (the summary's
#     frames=), and short of them by less than a tenth of a second: the
#     recorder lost nothing while the bars were drawn;
#   - a file that cannot be created: exit 1 and one line naming it; a name
#     whose format libsndfile cannot write: a usage error (64).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <meter> <tone>"
meter=$1
tone=$2
command -v soxi >/dev/null && command -v sox >/dev/null || fail "soxi and sox not found (install sox)"

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher

take="$work_dir/take.wav"
out="$work_dir/record.txt"
"$meter" --device "$device" --interval 100 --seconds 3 --record "$take" </dev/null >"$out" 2>"$work_dir/record.err"
status=$?
cat "$out"
[[ $status == 0 ]] || { cat "$work_dir/record.err" >&2; fail "exit status $status, expected 0"; }

# The meter's own lines, as without --record.
db='(-?[0-9]+\.[0-9]+|-inf)'
line_re="^time=[0-9]+\.[0-9]{3} rms=$db,$db peak=$db,$db hold=$db,$db clip=[01],[01] overflows=[0-9]+ dropped=[0-9]+$"
data=$(grep '^time=' "$out")
bad=$(grep -Ev "$line_re" <<<"$data")
[[ -z $bad ]] || fail "lines not of the documented form: $bad"
last=$(tail -n 1 <<<"$data")
rms=$(sed -nE 's/.* rms=([^,]+),.*/\1/p' <<<"$last")
within "$rms" -9.03 0.5 || fail "the meter shows rms $rms with a recorder beside it, expected -9.03: $last"

summary=$(grep '^# stopped after' "$out")
captured=$(sed -nE 's/.* frames=([0-9]+) .*/\1/p' <<<"$summary")
recorded_line=$(tail -n 1 "$out")
[[ $recorded_line =~ ^meter:\ recorded\ ([0-9]+)\ frames\ \(([0-9.]+)\ s\)\ to\ (.*)$ ]] ||
    fail "the last line does not say what was recorded: $recorded_line"
recorded=${BASH_REMATCH[1]}
[[ ${BASH_REMATCH[3]} == "$take" ]] || fail "the last line names ${BASH_REMATCH[3]}, not $take"
note "captured $captured frames, recorded $recorded"
((recorded <= captured && captured - recorded < 4800)) ||
    fail "recorded $recorded of the $captured frames captured"
((recorded >= 2 * 48000)) || fail "only $recorded frames recorded in 3 s"
check_wav "$take" "Signed Integer PCM" 16 "$recorded"

# Failures: one line each, and the right exit status.
"$meter" --device "$device" --seconds 1 --record "$work_dir/no/such/dir/x.wav" </dev/null >/dev/null 2>"$work_dir/err"
status=$?
note "unwritable path -> exit $status: $(cat "$work_dir/err")"
[[ $status == 1 ]] || fail "an unwritable path: exit status $status, expected 1"
grep -q "^meter: cannot create $work_dir/no/such/dir/x.wav: " "$work_dir/err" || fail "the message does not name the file"
[[ $(wc -l <"$work_dir/err") == 1 ]] || fail "$(wc -l <"$work_dir/err") lines on standard error, expected 1"
"$meter" --seconds 1 --record "$work_dir/x.unknown-format" </dev/null >/dev/null 2>"$work_dir/err"
status=$?
note "unknown format -> exit $status: $(cat "$work_dir/err")"
[[ $status == 64 ]] || fail "a file name of no known format: exit status $status, expected 64"
note "ok"
