#!/usr/bin/env bash
# The README's first command, examples/run-meter.sh, on a machine without a
# capture device: in tmux, with prebuilt programs (COAUDIO_EXAMPLES_BIN).
#
#   run_meter.sh <script> <bin-dir>
#
# JACK is pointed at a server that does not exist, so PortAudio finds no
# device at all (true in CI; where a sound card is present the script is
# run with --jack instead, and that is reported). Checks that:
#   - the script says it falls back, starts its own JACK server, and the
#     meter shows the test tone: RMS -9.0 and peak -6.0 dBFS (±0.5 dB);
#   - q ends the meter and the script exits 0;
#   - everything it started is gone: its server no longer answers and no
#     process carries its JACK_DEFAULT_SERVER any more.
# Exit status 77 (skipped) when tmux is not installed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <run-meter.sh> <directory with meter and tone>"
script=$1
bin=$2
require_tmux

name="coaudio-run-meter-test-$$"
nowhere="coaudio-no-such-server-$$"
mode=
if JACK_DEFAULT_SERVER=$nowhere "$bin/meter" --list 2>/dev/null | grep -q 'finds no audio devices at all'; then
    note "no audio device here: the script must fall back to JACK by itself"
else
    mode=--jack
    note "this machine has audio devices: running the script with --jack"
fi

# Whatever happens, nothing carrying our server name may outlive the test.
# The processes are found by their environment, and only those are signalled.
ours() {
    local f pid
    for f in /proc/[0-9]*/environ; do
        pid=${f#/proc/}
        pid=${pid%/environ}
        { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qx "JACK_DEFAULT_SERVER=$name" && echo "$pid"
    done
    return 0
}
cleanup_hooks+=('for p in $(ours); do kill -KILL "$p" 2>/dev/null; done')

start_tmux
tm new-session -d -s run -x 110 -y 40 \
    "env JACK_DEFAULT_SERVER=$nowhere COAUDIO_EXAMPLES_BIN=$bin COAUDIO_METER_JACK_NAME=$name bash $script $mode; echo script-status=\$?; exec sleep 600"

wait_for_screen run '^coaudio meter' 30 || fail "the meter did not start"
wait_for_levels run -9.03 -6.02 0.5
screen run
((levels_ok == 2)) || fail "the meter does not show the test tone at RMS -9.0 and peak -6.0 dBFS"
if [[ -z $mode ]]; then
    screen run | grep -q 'no capture device here: metering a test tone through a private JACK server' ||
        fail "the script does not say that it fell back to JACK"
fi
[[ -n $(ours) ]] || fail "no process runs with JACK_DEFAULT_SERVER=$name: whose server is this?"

tm send-keys -t run q
wait_for_screen run 'script-status=[0-9]+' 20 || fail "the script did not end after q"
screen run | grep -q 'script-status=0' || fail "the script's exit status is not 0"
screen run | grep -q "stopped the test tone and the JACK server $name" || fail "no word of stopping what it started"

left=$(ours)
[[ -z $left ]] || fail "still running after the script ended: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
JACK_DEFAULT_SERVER=$name timeout 5 "$JACK_LSP" >/dev/null 2>&1 && fail "the JACK server $name still answers"

echo "PASS: run-meter.sh ${mode:-(no device)}: falls back to a private JACK server, meters the tone, q exits 0, nothing left running"
