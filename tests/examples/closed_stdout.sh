#!/usr/bin/env bash
# Examples started with standard output closed (`meter >&-`, `record >&-`),
# as cron or a careless service file may start them.
#
#   closed_stdout.sh <examples-dir>
#
# A program that does not reopen descriptor 1 hands it to the next file it
# opens: here JACK's metadata database in /dev/shm/jack_db-<uid>, whose
# pages its output then overwrites, breaking every JACK client of that user.
# So that a failing run cannot harm anything else on the machine, the script
# runs in a mount namespace of its own, with a private /dev/shm and a JACK
# server of its own (skipped, 77, where that cannot be arranged: not root,
# no unshare). It checks:
#   - `meter --seconds 2 >&-` and `record --seconds 1 f.wav >&-` exit 0, and
#     the recording is whole;
#   - no file under /dev/shm holds the meter's or record's output;
#   - JACK clients still work afterwards: jack_lsp lists the ports, and a
#     meter run with its output kept sees no database error ("BDB").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || fail "usage: $0 <examples-dir>"
dir=$1

if [[ -z ${COAUDIO_PRIVATE_SHM:-} ]]; then
    if ((EUID != 0)) || ! command -v unshare >/dev/null ||
        ! unshare -m --propagation private true 2>/dev/null; then
        echo "SKIP: needs root and unshare for a private /dev/shm"
        exit 77
    fi
    trap - EXIT
    rm -rf "$work_dir"
    exec unshare -m --propagation private env COAUDIO_PRIVATE_SHM=1 bash "$0" "$@"
fi
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fail "cannot mount a private /dev/shm"
note "a private /dev/shm"
unset JACK_DEFAULT_SERVER
ensure_jack_server
device=$(jack_device_index "$dir/meter")

"$dir/meter" --device "$device" --seconds 2 </dev/null >&- 2>"$work_dir/meter.err"
status=$?
note "meter >&-: exit $status $(cat "$work_dir/meter.err")"
[[ $status == 0 ]] || fail "meter >&-: exit status $status"
"$dir/record" --device "$device" --seconds 1 "$work_dir/r.wav" </dev/null >&- 2>"$work_dir/record.err"
status=$?
note "record >&-: exit $status $(cat "$work_dir/record.err")"
[[ $status == 0 ]] || fail "record >&-: exit status $status"
frames=$(soxi -s "$work_dir/r.wav" 2>/dev/null)
[[ $frames == 48000 ]] || fail "record >&-: the file holds ${frames:-no} frames, expected 48000"

ls -la /dev/shm /dev/shm/jack_db-* 2>/dev/null | sed 's/^/   | /'
if grep -rlaE 'time=|coaudio meter|record: ' /dev/shm 2>/dev/null; then
    fail "the examples' output landed in a file under /dev/shm"
fi
timeout 5 "$JACK_LSP" >"$work_dir/lsp" 2>&1 || fail "jack_lsp fails afterwards: $(cat "$work_dir/lsp")"
"$dir/meter" --device "$device" --seconds 0.5 </dev/null >"$work_dir/after.out" 2>&1 ||
    fail "a meter afterwards fails: $(cat "$work_dir/after.out")"
grep -q 'BDB' "$work_dir/after.out" && fail "JACK's metadata database is broken: $(grep BDB "$work_dir/after.out")"
grep -q '^time=' "$work_dir/after.out" || fail "a meter afterwards prints no levels"

echo "PASS: with standard output closed the examples run, and JACK's database stays whole"
