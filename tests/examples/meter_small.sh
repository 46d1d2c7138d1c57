#!/usr/bin/env bash
# The meter in a very small terminal: tmux gives it 20 columns and 5 rows,
# with a 0.5-amplitude 1 kHz sine routed in.
#
#   meter_small.sh <meter> <tone>
#
#   - each channel gets one compact line, "1 -9.0/-6.0", that shows its RMS
#     and peak in dBFS (±0.5 dB); no line is wider than the window;
#   - q quits with status 0.
# Exit status 77 (skipped) when tmux is not installed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || fail "usage: $0 <meter> <tone>"
meter=$1
tone=$2
require_tmux

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher
start_tmux

printf '%q ' "$meter" --device "$device" >"$work_dir/cmd"
tm new-session -d -s small -n small -x 20 -y 5 \
    "$(cat "$work_dir/cmd"); echo meter-status=\$?; exec sleep 600"
tm set-option -t small status off >/dev/null

ok=0
for ((i = 0; i < 100; i++)); do
    screen small >"$work_dir/screen"
    ok=0
    for ch in 1 2; do
        line=$(grep -E "^$ch -?[0-9.]+/-?[0-9.]+" "$work_dir/screen" | head -n 1)
        rms=$(sed -nE "s|^$ch (-?[0-9.]+)/.*|\1|p" <<<"$line")
        peak=$(sed -nE "s|^$ch -?[0-9.]+/(-?[0-9.]+).*|\1|p" <<<"$line")
        within "$rms" -9.03 0.5 && within "$peak" -6.02 0.5 && ok=$((ok + 1))
    done
    ((ok == 2)) && break
    sleep 0.1
done
echo "----- 20x5 screen -----"
cat "$work_dir/screen"
echo "-----"
((ok == 2)) || fail "the 20x5 window does not show both channels at RMS -9.0 and peak -6.0 dBFS"
awk 'length($0) > 20 { exit 1 }' "$work_dir/screen" || fail "a line is wider than the window"
tm send-keys -t small q
wait_for_screen small '^meter-status=' 5 || fail "q did not quit"
screen small | grep -q '^meter-status=0' || fail "q: exit status $(screen small | grep meter-status)"

echo "PASS: in 20x5 the meter shows one compact line per channel"
