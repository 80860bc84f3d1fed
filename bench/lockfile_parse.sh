#!/usr/bin/env bash
# uv.lock (and pylock.toml) parse time against package count: shows whether `--from` grows
# linearly with the lock. Not a test: nothing here fails on a number.
#
# For each count it writes a synthetic lock with bench/gen_lockfile.py (every package a
# dependency of the root and of its neighbours, with markers, one wheel each), runs
# `otel-bootstrap --from <lock> --python-version 3.12 --platform linux` (no Python started)
# RUNS times and prints the median wall time, the time per 1,000 packages (flat when the
# growth is linear) and the peak RSS (from /usr/bin/time).
#
# Usage: bench/lockfile_parse.sh [-n RUNS] [--kind uv|pylock] [COUNT...]
#   default counts: 12500 25000 50000 100000; default RUNS: 5
# Environment: BENCH_DIR (default <target>/bench/lockfile), PYTHON (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=5
KIND=uv
COUNTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) RUNS="$2"; shift 2 ;;
        --kind) KIND="$2"; shift 2 ;;
        *) COUNTS+=("$1"); shift ;;
    esac
done
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(12500 25000 50000 100000)
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_DIR="${BENCH_DIR:-$TARGET/bench/lockfile}"
BIN="$TARGET/release/otel-bootstrap"

(cd "$ROOT" && cargo build --release --quiet)
mkdir -p "$BENCH_DIR"
[ "$KIND" = uv ] && FILE=uv.lock || FILE=pylock.toml

echo "| packages | lock size | median | per 1,000 packages | peak RSS |"
echo "| ---: | ---: | ---: | ---: | ---: |"
for count in "${COUNTS[@]}"; do
    dir="$BENCH_DIR/$KIND-$count"
    [ -f "$dir/$FILE" ] || "$PYTHON" "$ROOT/bench/gen_lockfile.py" "$KIND" "$count" "$dir" >/dev/null
    "$PYTHON" - "$BIN" "$dir" "$FILE" "$RUNS" "$count" <<'PY'
import os, resource, statistics, subprocess, sys, time
binary, directory, name, runs, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
command = [binary, "--from", name, "--python-version", "3.12", "--platform", "linux"]
times, peaks = [], []
for _ in range(runs):
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    times.append(time.perf_counter() - start)
    peaks.append(usage.ru_maxrss)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command} failed in {directory}")
median = statistics.median(times)
size = os.path.getsize(os.path.join(directory, name)) / 2**20
print(f"| {count:,} | {size:.1f} MiB | {median * 1000:.0f} ms | {median * 1e6 / count:.1f} ms | {max(peaks) / 1024:.0f} MiB |")
PY
done
