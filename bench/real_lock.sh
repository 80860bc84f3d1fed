#!/usr/bin/env bash
# `otel-bootstrap --from uv.lock` against `uv export --frozen` on a real project's lock, in one
# run, alternately (so machine load hits both alike). Real locks are other projects' files and
# are not carried in this repository: check one out (its uv.lock and every pyproject.toml of
# its workspace) and pass the directory.
#
# Usage: bench/real_lock.sh DIR [-n RUNS]     (default 20 rounds; medians and the ratio)
# Environment: OTEL_BOOTSTRAP_BIN (default: <target>/release/otel-bootstrap, built first),
#   UV (default: uv on PATH, else <target>/test-tools/uv/bin/uv), PYTHON (default python3).
# Goal: no slower than uv's export (ratio <= 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
DIR="$(cd "$1" && pwd)"; shift
RUNS=20
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) RUNS="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
OURS="${OTEL_BOOTSTRAP_BIN:-}"
if [ -z "$OURS" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    OURS="$TARGET/release/otel-bootstrap"
fi
UV_BIN="${UV:-$(command -v uv || echo "$TARGET/test-tools/uv/bin/uv")}"

"${PYTHON:-python3}" - "$RUNS" "$DIR" "$OURS" "$UV_BIN" <<'PY'
import os, statistics, subprocess, sys, time
runs, directory, ours, uv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rows = {
    "otel-bootstrap --from uv.lock": [ours, "--from", "uv.lock", "--python-version", "3.12", "--platform", "linux"],
    "uv export --frozen": [uv, "export", "--frozen", "--offline", "--no-hashes", "-q"],
}
def once(argv):
    start = time.perf_counter()
    subprocess.run(argv, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start
for argv in rows.values():
    for _ in range(3):
        once(argv)
times = {name: [] for name in rows}
for round_ in range(runs):
    order = list(rows.items())
    if round_ % 2:
        order.reverse()
    for name, argv in order:
        times[name].append(once(argv))
size = os.path.getsize(os.path.join(directory, "uv.lock"))
packages = open(os.path.join(directory, "uv.lock")).read().count("[[package]]")
ours_median, uv_median = (statistics.median(v) for v in times.values())
print(f"| lock | ours median | uv export median | ratio |")
print(f"| --- | ---: | ---: | ---: |")
print(f"| {size / 1e6:.2f} MB, {packages} packages | {ours_median * 1000:.1f} ms | {uv_median * 1000:.1f} ms | {ours_median / uv_median:.2f} |")
PY
