#!/usr/bin/env bash
# The README's first command, examples/run-meter.sh, on a machine whose audio
# is a desktop server: the test's private PulseAudio or PipeWire server
# (XDG_RUNTIME_DIR and PULSE_SERVER name it), in tmux, with prebuilt programs.
#
#   run_meter.sh <run-meter.sh> <bin-dir>
#
# A 1 kHz tone at amplitude 0.5 plays into the server's null sink (examples/
# tone on the ALSA device "pulse"); the server's default source is the sink's
# monitor. JACK is pointed at a server that does not exist. Checks that:
#   - the script meters the default capture device itself, without falling
#     back to a JACK server of its own;
#   - the meter shows the tone: RMS -9.0 and peak -6.0 dBFS (±0.5 dB);
#   - q ends the meter and the script exits 0.
# Exit status 77 (skipped) when tmux is not installed.
source "$(dirname "${BASH_SOURCE[0]}")/../examples/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <run-meter.sh> <directory with meter and tone>"
script=$1
bin=$2
require_tmux
: "${XDG_RUNTIME_DIR:?names the desktop server}" "${PULSE_SERVER:?names the desktop server}"
nowhere="coaudio-no-such-server-$$"

JACK_DEFAULT_SERVER=$nowhere "$bin/tone" --device pulse --freq 1000 --amplitude 0.5 --channels 2 --rate 48000 \
    --seconds 0 </dev/null >"$work_dir/tone.log" 2>&1 &
tone_pid=$!

start_tmux
tm new-session -d -s run -x 110 -y 40 \
    "env JACK_DEFAULT_SERVER=$nowhere COAUDIO_EXAMPLES_BIN=$bin XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR \
     PULSE_SERVER=$PULSE_SERVER bash $script; echo script-status=\$?; exec sleep 600"

wait_for_screen run '^coaudio meter' 30 || fail "the meter did not start"
if ! wait_for_levels run -9.03 -6.02 0.5; then
    screen run
    cat "$work_dir/tone.log"
    fail "the meter does not show the tone at RMS -9.0 and peak -6.0 dBFS"
fi
device=$(screen run | grep -E '^device ' | head -n 1)
note "the meter's $device"
screen run | grep -q 'private JACK server' && fail "the script fell back to JACK although the server has a source"
kill -0 "$tone_pid" 2>/dev/null || fail "the tone stopped: $(cat "$work_dir/tone.log")"

tm send-keys -t run q
wait_for_screen run 'script-status=[0-9]+' 20 || fail "the script did not end after q"
screen run | grep -q 'script-status=0' || fail "the script's exit status is not 0"

echo "PASS: run-meter.sh meters the server's default source: the tone at RMS -9.0 and peak -6.0 dBFS, q exits 0"
