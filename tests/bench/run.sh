#!/usr/bin/env bash
# coaudio's benchmark suite: build in Release (-O2) into build/bench, run, print
# the markdown table, write build/bench/results.json.
#
#   bash tests/bench/run.sh                 full run (~16 min + first build)
#   bash tests/bench/run.sh --quick         one short repetition, no callgrind (~2 min)
#   bash tests/bench/run.sh --no-jack       synthetic driver only
#   bash tests/bench/run.sh --no-callgrind  skip the instruction counts
#   bash tests/bench/run.sh --reps N        N repetitions (medians are taken over them)
#   bash tests/bench/run.sh --streams-only  only the real streams on JACK (~12 min)
#   bash tests/bench/run.sh --no-busy       the real streams on a quiet machine only
#   bash tests/bench/run.sh --resample-only only the sample-rate conversion (~10 s)
#   bash tests/bench/run.sh --uring         the real streams also with coaudio on
#                                           Asio's io_uring backend (liburing-dev)
#   bash tests/bench/run.sh --only KEYS     only those rows of the real streams
#                                           (coaudio,coaudio-uring,condvar,...)
#
# Then, with JACK, the real streams: coaudio's input, output and duplex
# streams against a condvar, a naive asio::post and Pa_ReadStream, each
# around PortAudio's own callback, and two floors that only wake a consumer
# (an Asio coroutine reading an eventfd, a thread in epoll_wait), quiet and
# with every core busy
# (coaudio_bench_streams; table in build/bench/streams.md).
#
# The JACK runs need jackd and jack_lsp (jackd2); the benchmark starts one
# private dummy server per block size (period = block) under a name of its
# own, and stops it by PID. Where libsoxr is installed, the sample-rate
# conversion's quality and cost are measured too (coaudio_bench_resample;
# table in build/bench/resample.md). Instruction counts need valgrind. Without them
# those parts are skipped. Progress goes to stderr; the full log, with
# PortAudio's and JACK's chatter, is build/bench/bench.log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly build=build/bench

usage() { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }

bench_args=()
stream_args=()
streams_only=no
resample_only=no
use_jack=yes
use_callgrind=yes
use_uring=no
while (($#)); do
    case $1 in
    --quick) bench_args+=(--quick); stream_args+=(--reps 1 --seconds 2); use_callgrind=no ;;
    --smoke) bench_args+=(--smoke); use_callgrind=no; use_jack=no ;;
    --no-jack) use_jack=no ;;
    --no-callgrind) use_callgrind=no ;;
    --reps) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; bench_args+=(--reps "$2"); stream_args+=(--reps "$2"); shift ;;
    --streams-only) streams_only=yes ;;
    --no-busy) stream_args+=(--load quiet) ;;
    --resample-only) resample_only=yes ;;
    --uring) use_uring=yes ;;
    --only) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; stream_args+=(--only "$2"); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
mkdir -p "$build"
if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S . -B "$build" "${generator[@]}" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DCOAUDIO_WERROR=ON \
        -DCOAUDIO_SANITIZE= \
        -DCOAUDIO_BUILD_BENCHMARKS=ON \
        -DCOAUDIO_BUILD_EXAMPLES=OFF \
        -DCOAUDIO_INSTALL=OFF \
        -DCOAUDIO_TEST_JACK=OFF >"$build/configure.log" 2>&1 ||
        { cat "$build/configure.log" >&2; exit 1; }
fi
targets=(coaudio_bench coaudio_bench_streams)
[[ $resample_only == yes ]] && targets=()
if [[ $use_uring == yes ]]; then
    if ! cmake --build "$build" --target help | grep -q coaudio_bench_streams_uring; then
        echo "run.sh: --uring needs liburing (Debian: liburing-dev); then remove $build/CMakeCache.txt" >&2
        exit 1
    fi
    targets+=(coaudio_bench_streams_uring)
    stream_args+=(--uring "$build/tests/bench/coaudio_bench_streams_uring")
fi
cmake --build "$build" --target help | grep -q coaudio_bench_resample && targets+=(coaudio_bench_resample)
if ((${#targets[@]} == 0)); then
    echo "run.sh: coaudio_bench_resample needs libsoxr (Debian: libsoxr-dev)" >&2
    exit 1
fi
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)" >"$build/build.log" 2>&1 ||
    { tail -n 60 "$build/build.log" >&2; exit 1; }
if [[ -x $build/tests/bench/coaudio_bench_resample ]]; then
    "$build/tests/bench/coaudio_bench_resample" | tee "$build/resample.md"
    echo
    echo "Table: $build/resample.md"
    [[ $resample_only == yes ]] && exit 0
fi

if [[ $use_jack == yes ]]; then
    if jackd_path=$(command -v jackd) && lsp_path=$(command -v jack_lsp); then
        bench_args+=(--jackd "$jackd_path" --jack-lsp "$lsp_path")
    else
        echo "run.sh: jackd/jack_lsp not found (Debian: jackd2): synthetic driver only" >&2
    fi
fi
if [[ $use_callgrind == yes ]]; then
    if valgrind_path=$(command -v valgrind); then
        bench_args+=(--valgrind "$valgrind_path")
    else
        echo "run.sh: valgrind not found: no instruction counts" >&2
    fi
fi

# The benchmark stops its JACK servers itself, and they die with it
# (PR_SET_PDEATHSIG); should one survive anyway, stop the recorded PID, and
# only if it is still that server.
cleanup() {
    local f pid name
    for f in "$build"/jackd-*.pid; do
        [[ -f $f ]] || continue
        read -r pid name <"$f" || true
        if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-n $name "; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
}
trap cleanup EXIT

# JACK keeps its servers in a registry in /dev/shm with eight slots, and a
# server that was killed keeps its slot until a server of the same name
# starts again; on a shared machine the slots run out ("Too many servers
# already active"). Where we may, run in a private mount namespace with a
# /dev/shm of our own, so the benchmark's servers neither meet nor disturb
# anyone else's.
runner=()
if [[ $use_jack == yes && $EUID -eq 0 ]] && unshare --mount --propagation private true 2>/dev/null; then
    runner=(unshare --mount --propagation private --
        bash -c 'mount -t tmpfs -o size=1g,mode=1777 coaudio-bench-shm /dev/shm && exec "$@"' bash)
fi

status=0
if [[ $streams_only == no ]]; then
    "${runner[@]}" "$build/tests/bench/coaudio_bench" --out "$build" "${bench_args[@]}" \
        2> >(tee "$build/bench.log" | grep --line-buffered '^bench:' >&2) |
        tee "$build/results.md" || status=$?
    wait
    echo
    echo "Table: $build/results.md   JSON: $build/results.json   Log: $build/bench.log"
fi
if [[ -n ${jackd_path:-} ]]; then
    "${runner[@]}" "$build/tests/bench/coaudio_bench_streams" --out "$build" \
        --jackd "$jackd_path" --jack-lsp "$lsp_path" "${stream_args[@]}" \
        2> >(tee "$build/streams.log" | grep --line-buffered '^bench:' >&2) |
        tee "$build/streams.md" || status=$?
    wait
    echo
    echo "Table: $build/streams.md   Log: $build/streams.log"
elif [[ $streams_only == yes ]]; then
    echo "run.sh: the real streams need jackd and jack_lsp (Debian: jackd2)" >&2
    status=1
fi
exit "$status"
