#!/usr/bin/env bash
# uv.lock (and pylock.toml) parse time against package count: shows whether `--from` grows
# linearly with the lock. Not a test: nothing here fails on a number.
#
# For each count it writes a synthetic lock with bench/gen_lockfile.py (every package a
# dependency of the root and of its neighbours, with markers, one wheel each), runs
# `otel-bootstrap --from <lock> --python-version 3.12 --platform linux` (no Python started)
# RUNS times and prints the median wall time, the time per 1,000 packages (flat when the
# growth is linear) and the peak RSS (wait4). With uv.lock, `uv export --frozen --no-hashes`
# of the same lock runs alternately with ours when uv is found (UV, PATH, or the test
# suite's target/test-tools/uv), for comparison.
#
# Usage: bench/lockfile_parse.sh [-n RUNS] [--kind uv|pylock] [COUNT...]
#   default counts: 12500 25000 50000 100000; default RUNS: 5
# Environment: BENCH_DIR (default <target>/bench/lockfile), PYTHON (default python3),
#   OTEL_BOOTSTRAP_BIN (default: <target>/release/otel-bootstrap, built first), UV.
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
if [ -n "${OTEL_BOOTSTRAP_BIN:-}" ]; then
    BIN="$OTEL_BOOTSTRAP_BIN"
else
    BIN="$TARGET/release/otel-bootstrap"
    (cd "$ROOT" && cargo build --release --quiet)
fi
UV="${UV:-$(command -v uv || true)}"
[ -n "$UV" ] || [ ! -x "$TARGET/test-tools/uv/bin/uv" ] || UV="$TARGET/test-tools/uv/bin/uv"
[ "$KIND" = uv ] || UV=""
mkdir -p "$BENCH_DIR"
[ "$KIND" = uv ] && FILE=uv.lock || FILE=pylock.toml

echo "| packages | lock size | median | per 1,000 packages | peak RSS | uv export median |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for count in "${COUNTS[@]}"; do
    dir="$BENCH_DIR/$KIND-$count"
    [ -f "$dir/$FILE" ] || "$PYTHON" "$ROOT/bench/gen_lockfile.py" "$KIND" "$count" "$dir" >/dev/null
    [ -f "$dir/pyproject.toml" ] || printf '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n' > "$dir/pyproject.toml"
    "$PYTHON" - "$BIN" "$dir" "$FILE" "$RUNS" "$count" "$UV" <<'PY'
import os, statistics, subprocess, sys, time
binary, directory, name, runs, count, uv = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
ours = [binary, "--from", name, "--python-version", "3.12", "--platform", "linux"]
theirs = [uv, "export", "--frozen", "--no-hashes", "--offline", "--quiet"] if uv else None
env = dict(os.environ, UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never")
def once(command):
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command} failed in {directory}")
    return time.perf_counter() - start, usage.ru_maxrss
times, peaks, uv_times = [], [], []
for round in range(runs):
    for command in ([ours, theirs] if round % 2 == 0 else [theirs, ours]):
        if command is None:
            continue
        elapsed, peak = once(command)
        if command is ours:
            times.append(elapsed)
            peaks.append(peak)
        else:
            uv_times.append(elapsed)
median = statistics.median(times)
size = os.path.getsize(os.path.join(directory, name)) / 2**20
uv_median = f"{statistics.median(uv_times) * 1000:.0f} ms" if uv_times else "n/a"
print(f"| {count:,} | {size:.1f} MiB | {median * 1000:.0f} ms | {median * 1e6 / count:.1f} ms | {max(peaks) / 1024:.0f} MiB | {uv_median} |")
PY
done
