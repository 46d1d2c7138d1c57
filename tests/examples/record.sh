#!/usr/bin/env bash
# The record example on JACK, with a 0.5-amplitude 1 kHz sine routed in.
#
#   record.sh <record> <tone> <meter>
#
# For 16-bit PCM and for --float:
#   - `--seconds 2` exits 0 and writes a WAV file whose header says PCM (1) or
#     IEEE float (3), 2 channels, 48000 Hz, 16 or 32 bits, with a data chunk
#     of exactly 2 s (96000 frames) and a RIFF size that matches the file;
#   - the second half of each channel (the tone is connected by then) has
#     RMS -9.03 and peak -6.02 dBFS (±0.5 dB).
# And: no output file is a usage error (64); SIGINT ends a long recording
# early with exit 0 and a valid, shorter file.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || fail "usage: $0 <record> <tone> <meter>"
record=$1
tone=$2
meter=$3

ensure_jack_server
device=$(jack_device_index "$meter")
start_tone "$tone" "$device" 0.5
start_patcher

u32() { od -An -v -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
u16() { od -An -v -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }
tag() { dd if="$1" bs=1 skip="$2" count=4 2>/dev/null; }

# check_wav <file> <format 1|3> <bits> <frames>: header fields and levels.
check_wav() {
    local file=$1 format=$2 bits=$3 frames=$4 data_at size
    [[ $(tag "$file" 0) == RIFF && $(tag "$file" 8) == WAVE && $(tag "$file" 12) == "fmt " ]] ||
        fail "$file: not a RIFF/WAVE file"
    size=$(stat -c %s "$file")
    [[ $(u32 "$file" 4) == $((size - 8)) ]] || fail "$file: RIFF size $(u32 "$file" 4), file is $size bytes"
    [[ $(u16 "$file" 20) == "$format" ]] || fail "$file: format $(u16 "$file" 20), expected $format"
    [[ $(u16 "$file" 22) == 2 ]] || fail "$file: $(u16 "$file" 22) channels, expected 2"
    [[ $(u32 "$file" 24) == 48000 ]] || fail "$file: rate $(u32 "$file" 24), expected 48000"
    [[ $(u16 "$file" 34) == "$bits" ]] || fail "$file: $(u16 "$file" 34) bits, expected $bits"
    if [[ $format == 1 ]]; then data_at=36; else data_at=50; fi
    [[ $(tag "$file" $data_at) == data ]] || fail "$file: no data chunk at $data_at"
    [[ $(u32 "$file" $((data_at + 4))) == $((frames * 2 * bits / 8)) ]] ||
        fail "$file: data size $(u32 "$file" $((data_at + 4))), expected $((frames * 2 * bits / 8))"
    [[ $format == 1 ]] || [[ $(tag "$file" 38) == fact && $(u32 "$file" 46) == "$frames" ]] ||
        fail "$file: the fact chunk does not hold $frames frames"

    # Levels of the second half, per channel.
    local type scale levels
    if [[ $format == 1 ]]; then type=d2 scale=32768; else type=f4 scale=1; fi
    levels=$(od -An -v -t $type -j $((data_at + 8)) "$file" | tr -s ' ' '\n' | grep -v '^$' |
        awk -v n="$frames" -v s="$scale" '
            { i = NR - 1; frame = int(i / 2); ch = i % 2 }
            frame >= n / 2 { v = $1 / s; sum[ch] += v * v; cnt[ch]++; a = v < 0 ? -v : v; if (a > pk[ch]) pk[ch] = a }
            END { for (c = 0; c < 2; c++) printf "%.2f %.2f ", 10 * log(sum[c] / cnt[c]) / log(10), 20 * log(pk[c]) / log(10) }')
    note "$file: format $format, $bits bits, $frames frames; rms/peak per channel: $levels"
    read -r r0 p0 r1 p1 <<<"$levels"
    for r in $r0 $r1; do within "$r" -9.03 0.5 || fail "$file: RMS $r, expected -9.03 ±0.5 dBFS"; done
    for p in $p0 $p1; do within "$p" -6.02 0.5 || fail "$file: peak $p, expected -6.02 ±0.5 dBFS"; done
}

"$record" --device "$device" --seconds 2 "$work_dir/s16.wav" </dev/null 2>&1 || fail "16-bit: exit status $?"
check_wav "$work_dir/s16.wav" 1 16 96000
"$record" --device "$device" --seconds 2 --float "$work_dir/f32.wav" </dev/null 2>&1 || fail "float: exit status $?"
check_wav "$work_dir/f32.wav" 3 32 96000

"$record" --device "$device" --seconds 60 "$work_dir/long.wav" </dev/null >"$work_dir/long.txt" 2>&1 &
pid=$!
sleep 2
kill -INT "$pid"
wait "$pid"
status=$?
cat "$work_dir/long.txt"
[[ $status == 0 ]] || fail "SIGINT: exit status $status, expected 0"
frames=$(sed -nE 's/^record: wrote ([0-9]+) frames.*stopped early$/\1/p' "$work_dir/long.txt")
[[ -n $frames ]] && ((frames > 24000 && frames < 2880000)) || fail "SIGINT: no 'stopped early' report"
[[ $(u32 "$work_dir/long.wav" 40) == $((frames * 4)) ]] || fail "SIGINT: the data size does not match $frames frames"

"$record" --seconds 1 </dev/null >/dev/null 2>&1
status=$?
[[ $status == 64 ]] || fail "no output file: exit status $status, expected 64"

echo "PASS: record writes valid 16-bit and float WAV files at the levels played; SIGINT ends early cleanly"
