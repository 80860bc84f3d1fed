#!/usr/bin/env bash
# Compares otel-bootstrap with upstream `opentelemetry-bootstrap` (opentelemetry-instrumentation
# 0.66b1 by default) on two real venvs, both with upstream installed:
#
#   * "typical": upstream + its dependencies + one in-range distribution of every library
#     upstream instruments (42 of them);
#   * "5,000 distributions": the same plus 4,958 random ones (dist-info + package dir each).
#
# Runs the two tools alternately (interleaved, one of each per round, the order alternating),
# N rounds (default 20) after 3 warm-up rounds, and prints a markdown table of the medians,
# the speed-up and the peak RSS. Timing uses hyperfine when installed
# (`apt-get install -y hyperfine`), else a Python perf_counter loop; peak RSS uses
# `/usr/bin/time -v` when present, else getrusage(RUSAGE_CHILDREN) from Python.
#
# Goals: otel-bootstrap >= 30x faster than upstream, peak RSS <= 10 MiB.
#
# Usage: bench/compare.sh [-n RUNS] [--count N] [--release R]
# Environment: BENCH_DIR (default <target>/bench), PYTHON (default python3),
#   BENCH_NO_HYPERFINE=1 (force the Python loop), BENCH_STRICT=1 (exit 1 if a goal is missed).
# Needs the internet once, to download the upstream wheels (reuses the test suite's
# <target>/test-tools/wheelhouse-<release> when present).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=20
COUNT=5000
RELEASE=0.66b1
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) RUNS="$2"; shift 2 ;;
        --count) COUNT="$2"; shift 2 ;;
        --release) RELEASE="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
BENCH="${BENCH_DIR:-$TARGET/bench}"
mkdir -p "$BENCH"
BENCH="$(cd "$BENCH" && pwd)"
# shellcheck disable=SC2016
PY="$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')"
HELPER="$ROOT/bench/bench.py"

# Nothing from an activated environment may leak into the installs or the runs.
unset VIRTUAL_ENV CONDA_PREFIX PYTHONPATH PYTHONHOME PIP_TARGET PIP_PREFIX PIP_USER \
    PIP_REQUIRE_VIRTUALENV || true

log() { printf '==> %s\n' "$*" >&2; }

# 1. The upstream wheels (and their dependencies).
WHEELHOUSE="$TARGET/test-tools/wheelhouse-v2-$RELEASE"
if [ ! -d "$WHEELHOUSE" ]; then
    WHEELHOUSE="$BENCH/wheelhouse-$RELEASE"
    if [ ! -d "$WHEELHOUSE" ]; then
        log "downloading opentelemetry-instrumentation==$RELEASE and its dependencies"
        rm -rf "$WHEELHOUSE.tmp"
        "$PY" -m pip download --disable-pip-version-check --only-binary=:all: \
            --dest "$WHEELHOUSE.tmp" "opentelemetry-instrumentation==$RELEASE" >&2
        mv "$WHEELHOUSE.tmp" "$WHEELHOUSE"
    fi
fi

# 2. The venvs (rebuilt only when the release or the count changes).
make_venv() { # DIR EXTRA_DISTS
    local dir="$1" count="$2" stamp="$1/.bench-ready"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$RELEASE $count" ]; then
        return
    fi
    log "creating $dir (upstream $RELEASE + $([ "$count" = 0 ] && echo "the instrumented libraries" || echo "$count distributions"))"
    rm -rf "$dir"
    "$PY" -m venv --without-pip "$dir"
    PIP_CONFIG_FILE=/dev/null "$PY" -m pip --python "$dir/bin/python" install --quiet \
        --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" \
        "opentelemetry-instrumentation==$RELEASE" >&2
    local sp
    sp="$(echo "$dir"/lib/python3*/site-packages)"
    "$PY" "$HELPER" populate "$sp" "$count"
    echo "$RELEASE $count" >"$stamp"
}
make_venv "$BENCH/venv-typical" 0
make_venv "$BENCH/venv-$COUNT" "$COUNT"

# 3. Ours, optimized.
log "cargo build --release"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" >&2
OURS="$TARGET/release/otel-bootstrap"

# 4. Compare.
CONFIG="$BENCH/config.json"
"$PY" - "$CONFIG" "$OURS" "$BENCH" "$COUNT" "$RUNS" <<'EOF'
import json, sys
config, ours, bench, count, runs = sys.argv[1:]
def target(name, venv):
    return {
        "name": name,
        "upstream": [f"{venv}/bin/opentelemetry-bootstrap", "-a", "requirements"],
        "ours": [ours, "-a", "requirements", "--python", venv],
    }
json.dump({
    "runs": int(runs),
    "warmup": 3,
    "goal_ratio": 30,
    "goal_rss_mib": 10,
    "targets": [
        target("typical venv (42 instrumented libraries)", f"{bench}/venv-typical"),
        target(f"{int(count):,} distributions", f"{bench}/venv-{count}"),
    ],
}, open(config, "w"), indent=2)
EOF
log "timing ($RUNS interleaved rounds per environment)"
BENCH_HOME="$BENCH" "$PY" "$HELPER" compare "$CONFIG" | tee "$BENCH/results.md"
