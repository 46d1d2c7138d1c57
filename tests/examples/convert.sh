#!/usr/bin/env bash
# play_file and record at rates the JACK test server (48 kHz) does not run at,
# as a user meets them; added only where coaudio is built with libsoxr.
#
#   convert.sh <examples-dir>
#
#   - play_file of a 44.1 kHz file says it converts to 48000 Hz, plays all
#     22050 frames of it and says done, exit 0 (without libsoxr: exit 2,
#     "sample rate not supported by the device");
#   - record --rate 16000 --channels 1 writes a 16 kHz mono file of exactly
#     the seconds asked for.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <examples-dir>"
dir=$1
command -v sox >/dev/null || fail "sox not found (install sox)"
command -v soxi >/dev/null || fail "soxi not found (install sox)"

ensure_jack_server
device=$(jack_device_index "$dir/meter")

sox -n -r 44100 -c 1 -b 16 "$work_dir/cd.wav" synth 0.5 sine 1000 vol 0.5
timeout -k 1 30 "$dir/play_file" --device "$device" "$work_dir/cd.wav" >"$work_dir/out" 2>"$work_dir/err"
status=$?
note "play_file cd.wav: exit $status"
sed 's/^/   | /' "$work_dir/out" "$work_dir/err"
[[ $status == 0 ]] || fail "play_file of a 44.1 kHz file: exit status $status"
grep -q "^play_file: converting 44100 Hz to the device's 48000 Hz$" "$work_dir/out" ||
    fail "play_file of a 44.1 kHz file did not say it converts"
grep -q '^play_file: done after .*: 22050 frames played$' "$work_dir/out" ||
    fail "play_file of a 44.1 kHz file did not play its 22050 frames"

timeout -k 1 30 "$dir/record" --device "$device" --rate 16000 --channels 1 --seconds 0.5 \
    "$work_dir/speech.wav" >"$work_dir/out" 2>"$work_dir/err"
status=$?
note "record --rate 16000: exit $status"
sed 's/^/   | /' "$work_dir/out" "$work_dir/err"
[[ $status == 0 ]] || fail "record --rate 16000: exit status $status"
rate=$(soxi -r "$work_dir/speech.wav")
channels=$(soxi -c "$work_dir/speech.wav")
samples=$(soxi -s "$work_dir/speech.wav")
note "speech.wav: $rate Hz, $channels channel(s), $samples frames"
[[ $rate == 16000 && $channels == 1 && $samples == 8000 ]] ||
    fail "record --rate 16000: $rate Hz, $channels channels, $samples frames; expected 16000, 1, 8000"

echo "PASS: play_file plays a 44.1 kHz file and record writes a 16 kHz file on the 48 kHz server"
