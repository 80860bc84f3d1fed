#!/bin/sh
# Runs every fuzz target for SECONDS seconds each (default 120), seeding each corpus from
# the repository's own fixtures. Needs cargo-fuzz (`cargo install cargo-fuzz`) and either
# a nightly toolchain or RUSTC_BOOTSTRAP=1 on stable. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")"
seconds=${1:-120}
[ $# -gt 0 ] && shift
targets=${*:-"metadata folder_name requirement registry bootstrap_gen requirements requirements_redaction uv_lock pylock poetry_lock pdm_lock pipfile_lock pyproject index_page sanitize"}
export RUSTC_BOOTSTRAP=1
root=..
failed=
for target in $targets; do
    mkdir -p "corpus/$target"
    case $target in
        bootstrap_gen) printf 'libraries = [\n    {"library": "flask >= 1.0", "instrumentation": "opentelemetry-instrumentation-flask==0.67b0"},  # c\n    {\n        "library": "pydantic >= 1.10.2",\n        "instrumentation": "opentelemetry-instrumentation-tortoiseorm==0.67b0",\n    },\n]\ndefault_instrumentations = [\n    "opentelemetry-instrumentation-asyncio==0.67b0",\n    \047opentelemetry-instrumentation-\047 "dbapi==0.67b0",\n]\n' > "corpus/$target/seed"; printf 'libraries = {\n    "flask": {"library": "flask >= 1.0", "instrumentation": "opentelemetry-instrumentation-flask==0.41b0"},\n}\ndefault_instrumentations = []\n' > "corpus/$target/seed2" ;;
        registry) find "$root/data/releases" -name '*.json' | head -5 | while read -r f; do cp "$f" "corpus/$target/"; done ;;
        requirements|requirements_redaction) find "$root/tests/fixtures/lockfiles" -name '*.txt' -o -name '*.in' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        uv_lock) find "$root/tests/fixtures/lockfiles" -name 'uv.lock' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        pylock) find "$root/tests/fixtures/lockfiles" -name 'pylock*.toml' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        pyproject) find "$root" -maxdepth 1 -name pyproject.toml | while read -r f; do cp "$f" "corpus/$target/"; done; printf '[tool.poetry.group.docs]\noptional = true\n[tool.uv]\ndefault-groups = "all"\n[dependency-groups]\ndev = []\n' > "corpus/$target/seed" ;;
        poetry_lock) find "$root/tests/fixtures/lockfiles" -name 'poetry.lock' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        pdm_lock) find "$root/tests/fixtures/lockfiles" -name 'pdm.lock' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        pipfile_lock) find "$root/tests/fixtures/lockfiles" -name 'Pipfile.lock' | while read -r f; do cp "$f" "corpus/$target/$(echo "$f" | tr / _)"; done ;;
        metadata) printf 'Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.0\n  folded\nSummary: x\r\n\r\nbody\n' > "corpus/$target/seed" ;;
        folder_name) printf 'tortoise_orm-0.21.0.dist-info' > "corpus/$target/seed"; printf 'PyYAML-6.0-py3.11.EGG-INFO' > "corpus/$target/seed2" ;;
        index_page) printf '<a href="../../f/demo-1.0-py3-none-any.whl#sha256=%064d" data-core-metadata="true">demo-1.0-py3-none-any.whl</a>' 0 > "corpus/$target/seed"; printf '{"meta": {"api-version": "1.1"}, "files": [{"filename": "demo-1.0.tar.gz", "url": "/f/demo-1.0.tar.gz", "hashes": {}, "yanked": "bad"}]}' > "corpus/$target/seed2" ;;
        sanitize) printf 'flask\033]0;title\007\r\302\233' > "corpus/$target/seed" ;;
        requirement) printf 'sqlalchemy >= 1.0.0, < 2.1.0, != 1.4.*' > "corpus/$target/seed"; printf 'foo~=1.0.post1.dev3+local' > "corpus/$target/seed2" ;;
    esac
    mkdir -p "artifacts/$target"
    cargo fuzz run --sanitizer none --debug-assertions "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 ||
        failed="$failed $target"
done
if [ -n "${failed:-}" ]; then
    echo "crashes in:$failed (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
