#!/usr/bin/env bash
# The examples when their JACK server stops or dies under them. Starts a JACK
# server of its own (it is stopped, frozen and restarted here), never the
# shared test server.
#
#   server_faults.sh <examples-dir>
#
#   - the server frozen (SIGSTOP) for 3 s under the plain meter: the lines of
#     those intervals say "(no audio is arriving)" and repeat no levels
#     (rms=-), and the lines before and after the freeze do not;
#   - the server frozen under `tone --stall-timeout 0.5`: the stall named on
#     standard error within 3 s, and exit 1 within 3 s more, while the server
#     is still frozen;
#   - the server stopped under `tone`: exit 1, the error on standard error,
#     and no "done" anywhere;
#   - the server stopped under `capture` (the README's first program): exit
#     non-zero and a message, not a silent exit 0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <examples-dir>"
dir=$1
unset JACK_DEFAULT_SERVER # a server of our own, whatever the environment names
ensure_jack_server
# The JACK host's device, not the host's default (ALSA's jack plugin, where it
# is installed, is a device of another host on the same server).
device=$(jack_device_index "$dir/meter")

# stop_server: the server ends (SIGTERM, so that it cleans up after itself).
stop_server() {
    stop_pid "$own_jackd_pid" 5
    own_jackd_pid=
}
# The semaphores of the clients a stopped server lost stay in /dev/shm; ours
# carry the server's name, which is this script's own. Removed once those
# clients are gone.
forget_lost_clients() { rm -f /dev/shm/jack_sem.*_"$JACK_DEFAULT_SERVER"_*; }
# lost_server <pid> <name>: stops the server under <pid>, which must end
# within 10 s; sets status to its exit status.
lost_server() {
    local pid=$1 name=$2 i
    sleep 1.5
    stop_server
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "$name still runs 10 s after its server stopped"
    wait "$pid"
    status=$?
}
restart_server() {
    stop_server
    forget_lost_clients
    unset JACK_DEFAULT_SERVER
    ensure_jack_server
    device=$(jack_device_index "$dir/meter")
}

# ---- Frozen --------------------------------------------------------------------------

"$dir/meter" --device "$device" --interval 250 --seconds 7 </dev/null >"$work_dir/meter.txt" 2>&1 &
meter_pid=$!
sleep 2
kill -STOP "$own_jackd_pid"
note "server frozen"
sleep 3
kill -CONT "$own_jackd_pid"
note "server thawed"
wait "$meter_pid"
status=$?
cat "$work_dir/meter.txt"
[[ $status == 0 ]] || fail "meter: exit status $status"
# Times of the marked lines, and of the others.
marked=$(grep '^time=.*(no audio is arriving)$' "$work_dir/meter.txt" | wc -l)
grep '^time=.*(no audio is arriving)$' "$work_dir/meter.txt" | grep -vq ' rms=-,- peak=-,- ' &&
    fail "a marked line repeats levels"
first=$(grep -m 1 '^time=' "$work_dir/meter.txt")
last=$(grep '^time=' "$work_dir/meter.txt" | tail -n 1)
note "$marked lines marked; first line: $first; last line: $last"
((marked >= 8)) || fail "$marked lines say no audio is arriving during a 3 s freeze at 4 lines a second, expected 8 or more"
[[ $first == *"no audio"* ]] && fail "the first line, before the freeze, says no audio is arriving"
[[ $last == *"no audio"* ]] && fail "the last line, 2 s after the freeze, says no audio is arriving"

# ---- Frozen under tone, with a stall timeout --------------------------------------------

# A server that stops calling back and says nothing (frozen here; ALSA's jack
# plugin when its server dies) must not leave tone hanging in silence:
# --stall-timeout makes it say so, soon after the timeout, and exit 1, without
# waiting for the server (PortAudio's JACK host, asked to stop or close the
# stream, waits for it).
"$dir/tone" --device "$device" --seconds 0 --stall-timeout 0.5 </dev/null \
    >"$work_dir/stall.out" 2>"$work_dir/stall.err" &
tone_pid=$!
sleep 1.5
kill -STOP "$own_jackd_pid"
for ((i = 0; i < 30; i++)); do
    grep -q 'stall timeout' "$work_dir/stall.err" && break
    sleep 0.1
done
told_after=$i
for ((i = 0; i < 30; i++)); do
    kill -0 "$tone_pid" 2>/dev/null || break
    sleep 0.1
done
exited_after=$i
kill -CONT "$own_jackd_pid"
if kill -0 "$tone_pid" 2>/dev/null; then
    kill "$tone_pid"
    fail "tone still ran 3 s after it named the stall, its server frozen, with --stall-timeout 0.5"
fi
wait "$tone_pid"
status=$?
tone_pid=
note "tone, server frozen: the stall named after $((told_after * 100)) ms, exit $status $((exited_after * 100)) ms later"
sed 's/^/   | /' "$work_dir/stall.out" "$work_dir/stall.err"
((told_after < 30)) || fail "tone did not name the stall within 3 s of the freeze, with --stall-timeout 0.5"
[[ $status == 1 ]] || fail "tone: exit status $status after a stall, expected 1"

# ---- Lost under tone ---------------------------------------------------------------------

"$dir/tone" --device "$device" --seconds 20 </dev/null >"$work_dir/tone.out" 2>"$work_dir/tone.err" &
tone_pid=$!
lost_server "$tone_pid" tone
tone_pid=
note "tone, server stopped: exit $status"
sed 's/^/   | /' "$work_dir/tone.out" "$work_dir/tone.err"
[[ $status == 1 ]] || fail "tone: exit status $status, expected 1"
grep -q 'done' "$work_dir/tone.out" "$work_dir/tone.err" && fail "tone failed and says done"
[[ -s $work_dir/tone.err ]] || fail "tone failed and says nothing on standard error"

# ---- Lost under capture --------------------------------------------------------------------

restart_server
"$dir/capture" --device "$device" </dev/null >"$work_dir/capture.out" 2>"$work_dir/capture.err" &
lost_server $! capture
note "capture, server stopped: exit $status: $(cat "$work_dir/capture.err")"
[[ $status != 0 ]] || fail "capture: exit status 0 when its server stopped"
grep -q '^capture: ' "$work_dir/capture.err" || fail "capture: no message"
forget_lost_clients

echo "PASS: a frozen server is marked in the meter's log and ends tone past its stall timeout; tone and capture report a lost server"
