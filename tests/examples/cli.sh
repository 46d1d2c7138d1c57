#!/usr/bin/env bash
# Every example's command line, as a user mistypes it. No audio is needed:
# a usage error is found before PortAudio starts (JACK is pointed at a server
# that does not exist, so nothing is reached either way).
#
#   cli.sh <examples-dir>
#
# For each program in the examples directory:
#   - `--bogus` and `--bogus 5`: exit 64, one line on standard error,
#     "unknown option '--bogus'" and nothing on standard output;
#   - a stray argument (`extra`, or a second FILE): exit 64, one line;
#   - `--help`: exit 0, the usage on standard output, naming --verbose;
#     `--help >/dev/full`: exit 1, "cannot write standard output".
# And the value checks, one line and exit 64 each, with these words:
#   - `--rate` last: "--rate needs a value"; `--rate abc`: "--rate: 'abc' is
#     not a number" (tone, record, meter);
#   - tone `--freq 30000 --rate 48000`: "--freq must be below 24000 Hz at 48000 Hz";
#   - passthrough `--block 0`, `--block abc`, `--block 99999999`, `--seconds -1`,
#     `--gain nan`, `--gain abc`; `--channels 0`, `--amplitude 2`, `--seconds inf`;
#   - play_file `--rate 0` is an unknown option, not "unknown argument '0'".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <examples-dir>"
dir=$1
export JACK_DEFAULT_SERVER="coaudio-no-such-server-$$"
programs=(capture devices tone record play_file passthrough oneshot meter)
checked=0

# usage_error <program> <pattern> <args...>: exit 64 with exactly one line
# on standard error matching <pattern>, and nothing on standard output.
usage_error() {
    local program=$1 pattern=$2 status lines
    shift 2
    # A usage error is found at once; 124 (timeout) means the program ran on.
    timeout 10 "$dir/$program" "$@" </dev/null >"$work_dir/out" 2>"$work_dir/err"
    status=$?
    lines=$(wc -l <"$work_dir/err")
    printf -- '-- %s %s -> %s: %s\n' "$program" "$*" "$status" "$(cat "$work_dir/err")"
    [[ $status == 64 ]] || fail "$program $*: exit status $status, expected 64"
    [[ $lines == 1 ]] || fail "$program $*: $lines lines on standard error, expected 1"
    grep -Eq -- "^$program: $pattern" "$work_dir/err" || fail "$program $*: standard error does not say '$pattern'"
    [[ -s $work_dir/out ]] && fail "$program $*: wrote to standard output: $(cat "$work_dir/out")"
    checked=$((checked + 1))
}

for program in "${programs[@]}"; do
    [[ -x $dir/$program ]] || fail "$dir/$program is not built"
    usage_error "$program" "unknown option '--bogus'" --bogus
    usage_error "$program" "unknown option '--bogus'" --bogus 5
    usage_error "$program" "unknown option '--bogus'" --bogus=5
    usage_error "$program" "unknown option '-x'" -x
    case $program in
    record | play_file) usage_error "$program" "unexpected argument 'two.wav'" one.wav two.wav ;;
    *) usage_error "$program" "unexpected argument 'extra'" extra ;;
    esac
    "$dir/$program" --help </dev/null >"$work_dir/out" 2>"$work_dir/err"
    status=$?
    [[ $status == 0 ]] || fail "$program --help: exit status $status"
    grep -q "^usage: $program" "$work_dir/out" || fail "$program --help: no usage line"
    grep -q -- "--verbose" "$work_dir/out" || fail "$program --help: does not mention --verbose"
    [[ -s $work_dir/err ]] && fail "$program --help: wrote to standard error"
    # A full disk is not a reader that went away: it is said, and fails.
    "$dir/$program" --help </dev/null >/dev/full 2>"$work_dir/err"
    status=$?
    [[ $status == 1 ]] || fail "$program --help >/dev/full: exit status $status, expected 1"
    grep -q "^$program: cannot write standard output: No space left on device" "$work_dir/err" ||
        fail "$program --help >/dev/full: standard error says $(cat "$work_dir/err")"
done

for program in tone record meter; do
    file=()
    [[ $program == record ]] && file=(take.wav)
    usage_error "$program" "--rate needs a value" "${file[@]}" --rate
    usage_error "$program" "--rate needs a value" --rate --channels 1 "${file[@]}"
    usage_error "$program" "--rate: 'abc' is not a number" --rate abc "${file[@]}"
    usage_error "$program" "--rate must be from 1000 to 1e\\+06" --rate 0 "${file[@]}"
    usage_error "$program" "--channels must be from 1 to 256" --channels 0 "${file[@]}"
    usage_error "$program" "--channels: '1.5' is not a whole number" --channels 1.5 "${file[@]}"
done
usage_error tone "--freq must be below 24000 Hz at 48000 Hz" --freq 30000 --rate 48000
usage_error tone "--freq must be below 22050 Hz at 44100 Hz" --rate=44100 --freq=22050
usage_error tone "--freq must be above 0" --freq 0
usage_error tone "--amplitude must be from 0 to 1" --amplitude 2
usage_error tone "--amplitude: 'nan' is not a number" --amplitude nan
usage_error tone "--seconds: 'inf' is not a number" --seconds inf
usage_error tone "--seconds must be from 0 to 86400" --seconds -1
for program in tone record passthrough; do
    usage_error "$program" "--stall-timeout: 'abc' is not a number" --stall-timeout abc
    usage_error "$program" "--stall-timeout must be from 0 to 3600" --stall-timeout -1
done
usage_error oneshot "--amplitude must be from 0 to 1" --amplitude -0.5
usage_error oneshot "--seconds must be above 0" --seconds 0
usage_error record "--seconds must be above 0" --seconds 0 take.wav
usage_error record "--bits must be 16, 24 or 32" --bits 20 take.wav
usage_error record "no FILE given" --seconds 1
usage_error record "cannot write x.nosuchformat in that format" --rate 48000 --channels 1 x.nosuchformat
usage_error play_file "no FILE given"
usage_error play_file "unknown option '--rate'" --rate 0 x.wav
usage_error passthrough "--block must be from 1 to 8192" --block 0
usage_error passthrough "--block: 'abc' is not a number" --block abc
usage_error passthrough "--block must be from 1 to 8192" --block 99999999
usage_error passthrough "--seconds must be above 0" --seconds -1
usage_error passthrough "--gain: 'nan' is not a number" --gain nan
usage_error passthrough "--gain: 'abc' is not a number" --gain abc
usage_error passthrough "--gain needs a value" --gain
usage_error meter "--interval must be from 5 to 60000" --interval 1
usage_error meter "--block must be from 1 to 8192" --block 0
usage_error meter "--list takes no value" --list=yes

echo "PASS: $checked usage errors in ${#programs[@]} programs: exit 64, one line each, the same words"
