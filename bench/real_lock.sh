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

PY="${PYTHON:-python3}"
CONFIG="$(mktemp)"
trap 'rm -f "$CONFIG"' EXIT
"$PY" -c 'import json, sys; runs, directory, ours, uv = sys.argv[1:5]; print(json.dumps({"runs": int(runs), "cwd": directory, "path": None, "rows": {"ours": [ours, "--from", "uv.lock", "--python-version", "3.12", "--platform", "linux"], "uv": [uv, "export", "--frozen", "--offline", "--no-hashes", "-q"]}}))' \
    "$RUNS" "$DIR" "$OURS" "$UV_BIN" > "$CONFIG"
"$PY" "$ROOT/bench/bench.py" alternate "$CONFIG" | "$PY" -c '
import json, os, sys
directory, medians = sys.argv[1], json.load(sys.stdin)
lock = os.path.join(directory, "uv.lock")
packages = open(lock).read().count("[[package]]")
ours, uv = medians["ours"], medians["uv"]
print("| lock | ours median | uv export median | ratio |")
print("| --- | ---: | ---: | ---: |")
print(f"| {os.path.getsize(lock) / 1e6:.2f} MB, {packages} packages | {ours * 1000:.1f} ms | {uv * 1000:.1f} ms | {ours / uv:.2f} |")
' "$DIR"
