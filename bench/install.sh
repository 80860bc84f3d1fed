#!/usr/bin/env bash
# Times `-a install`: upstream `opentelemetry-bootstrap -a install` (0.66b1, one pip run per
# package, then `pip check`) against `otel-bootstrap -a install`, on the same environment:
# a venv with pip, upstream installed, and 8 instrumented libraries (flask, requests,
# urllib3, jinja2, click, httpx, redis, sqlalchemy), so the plan is 16 instrumentations.
#
# Every timed run starts from an identical copy of that venv (restored at the same path, so
# its absolute paths hold). Packages come from a local wheelhouse (PIP_NO_INDEX +
# PIP_FIND_LINKS, which otel-bootstrap passes to uv too): no network while timing, caches
# warm (one untimed warm-up round first). Rows:
#
#   upstream            <venv>/bin/opentelemetry-bootstrap -a install
#   pip, one batch      <venv>/bin/python -m pip install -U --upgrade-strategy only-if-needed <16>
#   uv pip, one batch   uv pip install --python <venv> --no-index --find-links <wheels> <16>
#   ours (pip)          otel-bootstrap -a install --installer pip   (uv not on PATH)
#   ours (uv)           otel-bootstrap -a install                   (auto: uv on PATH)
#   ours, second run    the same again on the installed venv (nothing to do)
#
# Goals: ours (uv) >= 15x faster than upstream; ours (pip) no slower than one batched pip.
#
# Usage: bench/install.sh [-n RUNS]     (default 5 rounds; medians reported)
# Environment: BENCH_DIR (default <target>/bench), PYTHON (default python3), UV (a uv
#   binary; default: uv on PATH, else <target>/test-tools/uv/bin/uv, else installed into
#   BENCH_DIR with pip). Needs the internet once, to download the wheels.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=5
RELEASE=0.66b1
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) RUNS="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
BENCH="${BENCH_DIR:-$TARGET/bench}/install"
mkdir -p "$BENCH"
BENCH="$(cd "$BENCH" && pwd)"
PY="$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')"

unset VIRTUAL_ENV CONDA_PREFIX PYTHONPATH PYTHONHOME PIP_TARGET PIP_PREFIX PIP_USER \
    PIP_REQUIRE_VIRTUALENV PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_DEFAULT_INDEX \
    UV_EXTRA_INDEX_URL UV_INDEX UV_FIND_LINKS || true

log() { printf '==> %s\n' "$*" >&2; }

INSTRUMENTATIONS=(asyncio dbapi exceptions logging sqlite3 threading urllib wsgi
    flask requests urllib3 jinja2 click httpx redis sqlalchemy)
LIBRARIES=("flask 3.0.3" "requests 2.31.0" "urllib3 2.2.1" "jinja2 3.1.4" "click 8.1.7"
    "httpx 0.27.0" "redis 5.0.4" "sqlalchemy 2.0.30")
REQUIREMENTS=()
for name in "${INSTRUMENTATIONS[@]}"; do
    REQUIREMENTS+=("opentelemetry-instrumentation-$name==$RELEASE")
done

# 1. The wheels: upstream and the 16 instrumentations with their dependencies.
WHEELHOUSE="$BENCH/wheelhouse-$RELEASE"
if [ ! -d "$WHEELHOUSE" ]; then
    log "downloading upstream $RELEASE and the 16 instrumentations (once)"
    rm -rf "$WHEELHOUSE.tmp"
    "$PY" -m pip download --disable-pip-version-check --only-binary=:all: --no-cache-dir \
        --dest "$WHEELHOUSE.tmp" "opentelemetry-instrumentation==$RELEASE" \
        "${REQUIREMENTS[@]}" >&2
    mv "$WHEELHOUSE.tmp" "$WHEELHOUSE"
fi

# 2. uv.
UV_BIN="${UV:-$(command -v uv || true)}"
if [ -z "$UV_BIN" ] && [ -x "$TARGET/test-tools/uv/bin/uv" ]; then
    UV_BIN="$TARGET/test-tools/uv/bin/uv"
fi
if [ -z "$UV_BIN" ]; then
    if [ ! -x "$BENCH/uv/bin/uv" ]; then
        log "installing uv into $BENCH/uv"
        "$PY" -m pip install --disable-pip-version-check --quiet --only-binary=:all: \
            --no-compile --target "$BENCH/uv" uv >&2
    fi
    UV_BIN="$BENCH/uv/bin/uv"
fi
UV_DIR="$BENCH/uv-path"
mkdir -p "$UV_DIR"
ln -sf "$UV_BIN" "$UV_DIR/uv"
# PATH without any uv, and with ours first.
NO_UV_PATH="$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do
    [ -n "$d" ] && [ ! -e "$d/uv" ] && printf '%s:' "$d"; done)"
NO_UV_PATH="${NO_UV_PATH%:}"
WITH_UV_PATH="$UV_DIR:$NO_UV_PATH"

# 3. The template venv, built at the path every run uses, then moved aside.
VENV="$BENCH/venv"
TEMPLATE="$BENCH/venv-template"
if [ ! -f "$TEMPLATE/.bench-ready" ]; then
    log "creating the template venv (pip, upstream $RELEASE, 8 libraries)"
    rm -rf "$VENV" "$TEMPLATE"
    "$PY" -m venv "$VENV"
    PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install --quiet \
        --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" \
        "opentelemetry-instrumentation==$RELEASE" >&2
    SP="$(echo "$VENV"/lib/python3*/site-packages)"
    for library in "${LIBRARIES[@]}"; do
        set -- $library
        mkdir -p "$SP/$1-$2.dist-info"
        printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$SP/$1-$2.dist-info/METADATA"
        printf 'bench\n' >"$SP/$1-$2.dist-info/INSTALLER"
    done
    touch "$VENV/.bench-ready"
    mv "$VENV" "$TEMPLATE"
fi
# `sync`: the copy's write-back must not land in the timed run.
fresh() { rm -rf "$VENV"; cp -a "$TEMPLATE" "$VENV"; sync; }

# 4. Ours, optimized.
log "cargo build --release"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" >&2
OURS="$TARGET/release/otel-bootstrap"

# Every installer reads the wheelhouse only.
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CONFIG_FILE=/dev/null PIP_NO_INPUT=1 UV_NO_CONFIG=1 UV_CACHE_DIR="$BENCH/uv-cache" \
    UV_PYTHON_DOWNLOADS=never

# time_run NAME FRESH(yes|no) PATH COMMAND...: appends the seconds to $BENCH/times-NAME.
time_run() {
    local name="$1" want_fresh="$2" path="$3"
    shift 3
    [ "$want_fresh" = yes ] && fresh
    local start end status=0
    start="$(date +%s%N)"
    PATH="$path" "$@" >"$BENCH/last-$name.log" 2>&1 || status=$?
    end="$(date +%s%N)"
    if [ "$status" != 0 ]; then
        log "$name exited $status (see $BENCH/last-$name.log)"
    fi
    echo "$(( (end - start) / 1000000 ))" >>"$BENCH/times-$name"
}

round() {
    time_run upstream yes "$NO_UV_PATH" "$VENV/bin/opentelemetry-bootstrap" -a install
    time_run pip-batch yes "$NO_UV_PATH" "$VENV/bin/python" -m pip install -U \
        --upgrade-strategy only-if-needed "${REQUIREMENTS[@]}"
    time_run uv-batch yes "$WITH_UV_PATH" "$UV_BIN" pip install --python "$VENV/bin/python" \
        --no-index --find-links "$WHEELHOUSE" "${REQUIREMENTS[@]}"
    time_run ours-pip yes "$NO_UV_PATH" "$OURS" -a install --python "$VENV" --installer pip
    time_run ours-uv yes "$WITH_UV_PATH" "$OURS" -a install --python "$VENV"
    time_run ours-noop no "$WITH_UV_PATH" "$OURS" -a install --python "$VENV"
}

rm -f "$BENCH"/times-*
log "warm-up round"
round
rm -f "$BENCH"/times-*
log "timing ($RUNS rounds)"
for _ in $(seq "$RUNS"); do round; done

# Sanity: the venv ours (uv) installed holds the 16 instrumentations.
"$VENV/bin/python" - "$RELEASE" "${INSTRUMENTATIONS[@]}" <<'EOF'
import importlib.metadata as m, sys
release, names = sys.argv[1], sys.argv[2:]
def version(name):
    try:
        return m.version(f"opentelemetry-instrumentation-{name}")
    except m.PackageNotFoundError:
        return None
wrong = [n for n in names if version(n) != release]
if wrong:
    sys.exit(f"otel-bootstrap did not install: {', '.join(wrong)}")
EOF

"$PY" - "$BENCH" "$RUNS" <<'EOF'
import statistics, sys
bench, runs = sys.argv[1], int(sys.argv[2])
def median(name):
    with open(f"{bench}/times-{name}") as f:
        return statistics.median(int(line) for line in f) / 1000
rows = [
    ("upstream `opentelemetry-bootstrap -a install`", "upstream"),
    ("pip, one batched `pip install`", "pip-batch"),
    ("uv, one `uv pip install`", "uv-batch"),
    ("otel-bootstrap -a install --installer pip", "ours-pip"),
    ("otel-bootstrap -a install (uv)", "ours-uv"),
    ("otel-bootstrap -a install, second run (no-op)", "ours-noop"),
]
upstream = median("upstream")
print(f"16 instrumentations, median of {runs} runs, warm caches, local wheelhouse\n")
print("| command | median | vs upstream |")
print("| --- | ---: | ---: |")
for label, name in rows:
    value = median(name)
    print(f"| {label} | {value:.3f} s | {upstream / value:.1f}x |")
ours_uv, ours_pip, batch = median("ours-uv"), median("ours-pip"), median("pip-batch")
print()
print(f"goal ours (uv) >= 15x upstream: {upstream / ours_uv:.1f}x -> {'met' if upstream / ours_uv >= 15 else 'MISSED'}")
print(f"goal ours (pip) <= one batched pip: {ours_pip:.3f} s vs {batch:.3f} s -> {'met' if ours_pip <= batch * 1.05 else 'MISSED'}")
EOF
