#!/usr/bin/env bash
# The meter without a usable capture device, and with a bad command line.
#
#   meter_no_device.sh <meter>
#
# Needs no JACK server: it points JACK at a server name that does not exist.
#   - `--device <a name nothing has>`: exit 2, the message quotes the name and
#     lists the devices;
#   - `--device 9999`: exit 2, "no device has the index 9999";
#   - on a machine where PortAudio then finds no input at all (a headless
#     server, CI), plain `meter`: exit 2, "no capture device", and the
#     remedy (run-meter.sh --jack); elsewhere that case is reported as skipped;
#   - nothing of ALSA's or JACK's probing chatter reaches standard error;
#   - `ulimit -n 8`: exit 2, the limit on open files named as the problem;
#   - an unknown option: exit 64 and a pointer to --help; --help: exit 0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <meter>"
meter=$1
export JACK_DEFAULT_SERVER="coaudio-no-such-server-$$"

# expect <status> <pattern> <args...>: runs the meter, checks status and stderr.
expect() {
    local want=$1 pattern=$2 status
    shift 2
    "$meter" "$@" </dev/null >"$work_dir/out" 2>"$work_dir/err"
    status=$?
    note "meter $* -> exit $status"
    sed 's/^/   | /' "$work_dir/err"
    [[ $status == "$want" ]] || fail "meter $*: exit status $status, expected $want"
    grep -Eq -- "$pattern" "$work_dir/err" || fail "meter $*: standard error does not match '$pattern'"
    grep -Eq 'ALSA lib|Cannot connect to server|jack server is not running' "$work_dir/err" &&
        fail "meter $*: the audio libraries' probing messages were not silenced"
    return 0
}

expect 2 'no capture device.s name contains "no-such-device-zq9"' --device no-such-device-zq9
grep -q '^Audio devices:' "$work_dir/err" || fail "the message does not list the devices"
expect 2 'no device has the index 9999' --device 9999

if "$meter" --list 2>/dev/null | grep -q 'finds no audio devices at all'; then
    expect 2 '^meter: no capture device: PortAudio finds no audio input on this machine' 
    grep -q 'run-meter.sh --jack' "$work_dir/err" || fail "the message does not say what to do instead"
else
    note "SKIPPED: this machine has audio devices, so 'no device at all' cannot be arranged here"
fi

# Short of file descriptors, every host's probe fails: say so, not "no audio input".
(ulimit -n 8 && timeout -k 1 30 "$meter" </dev/null >/dev/null 2>"$work_dir/err")
status=$?
note "ulimit -n 8 -> exit $status: $(head -n 1 "$work_dir/err")"
[[ $status == 2 ]] || fail "ulimit -n 8: exit status $status, expected 2"
grep -q '^meter: this process may open only 8 files (ulimit -n)' "$work_dir/err" || fail "ulimit -n 8: the limit on open files is not named"

"$meter" --no-such-option </dev/null >/dev/null 2>"$work_dir/err"
status=$?
[[ $status == 64 ]] || fail "unknown option: exit status $status, expected 64"
grep -q "unknown option '--no-such-option'" "$work_dir/err" || fail "unknown option: no message"
grep -q -- "--help" "$work_dir/err" || fail "unknown option: no pointer to --help"
"$meter" --help | grep -q -- '--device NAME|INDEX' || fail "--help does not describe --device"

echo "PASS: no device: exit 2 with the problem named and the devices listed; usage errors exit 64"
