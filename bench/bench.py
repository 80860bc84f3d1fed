#!/usr/bin/env python3
"""Helpers for bench/compare.sh: build the benchmark environments, time upstream
`opentelemetry-bootstrap` against `otel-bootstrap` (interleaved), measure peak RSS and
print a markdown table.

Subcommands:
  populate SITE_PACKAGES COUNT           write COUNT fake distributions: random names plus
                                         one in-range version of every library upstream
                                         instruments
  compare  JSON_CONFIG                   time and report (see compare.sh for the config)
  alternate JSON_CONFIG                  run commands alternately, round by round, and print
                                         each one's median seconds as JSON; the config is
                                         {"runs": N, "cwd": DIR or null, "path": PATH or null,
                                          "rows": {"name": [argv...], ...}}
"""

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# One in-range version of every library in 0.66b1's `libraries` list, except the ones on
# which upstream and otel-bootstrap differ on purpose (duplicates, tortoiseorm's all-of).
LIBRARIES = [
    ("openai", "1.30.0"), ("google-cloud-aiplatform", "1.64.0"), ("aio-pika", "9.4.1"),
    ("aiohttp", "3.9.5"), ("aiokafka", "0.10.0"), ("aiopg", "1.4.0"), ("asgiref", "3.8.1"),
    ("asyncclick", "8.1.7.2"), ("asyncpg", "0.29.0"), ("boto3", "1.34.0"),
    ("botocore", "1.34.0"), ("cassandra-driver", "3.29.1"), ("celery", "5.4.0"),
    ("click", "8.1.7"), ("confluent-kafka", "2.4.0"), ("Django", "5.0.6"),
    ("falcon", "3.1.3"), ("fastapi", "0.110.0"), ("Flask", "3.0.3"), ("grpcio", "1.64.0"),
    ("httpx", "0.27.0"), ("Jinja2", "3.1.4"), ("kafka-python", "2.0.2"),
    ("mysql-connector-python", "8.4.0"), ("mysqlclient", "2.2.4"), ("pika", "1.3.2"),
    ("psycopg", "3.1.19"), ("psycopg2", "2.9.9"), ("pymemcache", "4.0.0"),
    ("pymongo", "4.7.2"), ("pymssql", "2.3.0"), ("PyMySQL", "1.1.1"), ("pyramid", "2.0.2"),
    ("redis", "5.0.4"), ("remoulade", "0.60.0"), ("requests", "2.31.0"),
    ("SQLAlchemy", "2.0.30"), ("starlette", "0.37.2"), ("structlog", "24.1.0"),
    ("psutil", "5.9.8"), ("tornado", "6.4"), ("urllib3", "2.2.1"),
]

DESCRIPTION = (
    "This is a synthetic distribution written by otel-bootstrap's benchmark. Its metadata\n"
    "is shaped like a real one: a summary, classifiers, requirements and a long\n"
    "description, because real METADATA files usually embed the project's README.\n"
) * 12


def stem(name):
    out, sep = [], False
    for c in name:
        if c in "-_.":
            if not sep:
                out.append("_")
            sep = True
        else:
            out.append(c)
            sep = False
    return "".join(out)


def write_dist(site_packages, name, version, rng):
    d = os.path.join(site_packages, f"{stem(name)}-{version}.dist-info")
    os.makedirs(d, exist_ok=True)
    module = stem(name).lower()
    requires = [f"dep-{rng.randrange(10_000)}>={rng.randrange(1, 9)}.0" for _ in range(rng.randrange(0, 6))]
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: Synthetic package {name}",
        "Home-page: https://example.invalid/",
        "License: MIT",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: License :: OSI Approved :: MIT License",
        "Requires-Python: >=3.8",
        *[f"Requires-Dist: {r}" for r in requires],
        "Description-Content-Type: text/markdown",
        "",
        DESCRIPTION,
    ]
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("\n".join(metadata))
    with open(os.path.join(d, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    with open(os.path.join(d, "INSTALLER"), "w") as f:
        f.write("pip\n")
    with open(os.path.join(d, "top_level.txt"), "w") as f:
        f.write(module + "\n")
    info = os.path.basename(d)
    with open(os.path.join(d, "RECORD"), "w") as f:
        f.write(
            f"{module}/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
            f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/INSTALLER,,\n{info}/RECORD,,\n"
        )
    pkg = os.path.join(site_packages, module)
    os.makedirs(pkg, exist_ok=True)
    open(os.path.join(pkg, "__init__.py"), "w").close()


def populate(site_packages, count):
    rng = random.Random(20240501)
    os.makedirs(site_packages, exist_ok=True)
    taken = {stem(n).lower() for n, _ in LIBRARIES}
    taken |= {"opentelemetry_instrumentation", "opentelemetry_api", "packaging", "wrapt",
              "typing_extensions", "opentelemetry_semantic_conventions", "pip", "setuptools"}
    dists = list(LIBRARIES)
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(dists) < count:
        parts = ["".join(rng.choice(letters) for _ in range(rng.randrange(3, 9)))
                 for _ in range(rng.randrange(1, 4))]
        name = rng.choice("-_").join(parts)
        if stem(name).lower() in taken:
            continue
        taken.add(stem(name).lower())
        version = f"{rng.randrange(0, 30)}.{rng.randrange(0, 20)}.{rng.randrange(0, 10)}"
        dists.append((name, version))
    for name, version in dists:
        write_dist(site_packages, name, version, rng)
    print(f"wrote {len(dists)} distributions into {site_packages}", file=sys.stderr)


# ---------------------------------------------------------------------------------------


def clean_env():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "HOME": os.environ.get("BENCH_HOME", tempfile.gettempdir())}
    return env


def run_capture(argv):
    p = subprocess.run(argv, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {argv}\n{p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def time_python(argv):
    start = time.perf_counter()
    subprocess.run(argv, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def time_hyperfine(hyperfine, a, b, swap):
    """One interleaved round through hyperfine (no shell, one run of each)."""
    cmds = [b, a] if swap else [a, b]
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    try:
        subprocess.run(
            [hyperfine, "-N", "--runs", "1", "--style", "none", "--export-json", path,
             *[" ".join(c) for c in cmds]],
            env=clean_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(path) as f:
            results = [r["mean"] for r in json.load(f)["results"]]
    finally:
        os.unlink(path)
    return (results[1], results[0]) if swap else (results[0], results[1])


def peak_rss_kib(argv):
    time_bin = "/usr/bin/time"
    if os.access(time_bin, os.X_OK):
        p = subprocess.run([time_bin, "-v", *argv], env=clean_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        for line in p.stderr.decode(errors="replace").splitlines():
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    # getrusage of the only child of a fresh interpreter (ru_maxrss is KiB on Linux).
    code = ("import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(run_capture([sys.executable, "-c", code, *argv]).strip())


def fmt_time(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"


def compare(config_path):
    with open(config_path) as f:
        cfg = json.load(f)
    runs = int(cfg["runs"])
    warmup = int(cfg.get("warmup", 3))
    hyperfine = shutil.which("hyperfine") if not os.environ.get("BENCH_NO_HYPERFINE") else None
    timer = "hyperfine (-N, one run of each per round)" if hyperfine else "python perf_counter"
    rows = []
    ok = True
    for target in cfg["targets"]:
        up, ours = target["upstream"], target["ours"]
        same = run_capture(up) == run_capture(ours)
        if not same:
            print(f"WARNING: {target['name']}: stdout differs between upstream and ours",
                  file=sys.stderr)
        for _ in range(warmup):
            time_python(up)
            time_python(ours)
        t_up, t_ours = [], []
        for i in range(runs):
            swap = i % 2 == 1  # alternate which one goes first
            if hyperfine:
                a, b = time_hyperfine(hyperfine, up, ours, swap)
            elif swap:
                b = time_python(ours)
                a = time_python(up)
            else:
                a = time_python(up)
                b = time_python(ours)
            t_up.append(a)
            t_ours.append(b)
        m_up, m_ours = statistics.median(t_up), statistics.median(t_ours)
        rss_ours = max(peak_rss_kib(ours) for _ in range(3))
        rss_up = peak_rss_kib(up)
        ratio = m_up / m_ours
        goal_speed = ratio >= cfg["goal_ratio"]
        goal_rss = rss_ours <= cfg["goal_rss_mib"] * 1024
        ok = ok and goal_speed and goal_rss and same
        rows.append((target["name"], m_up, m_ours, ratio, rss_up, rss_ours, same,
                     goal_speed, goal_rss))
        print(f"{target['name']}: upstream {fmt_time(m_up)}, ours {fmt_time(m_ours)}, "
              f"{ratio:.1f}x", file=sys.stderr)

    print()
    print(f"Median of {runs} interleaved runs each ({timer}, {warmup} warm-up runs); "
          f"peak RSS from {'/usr/bin/time -v' if os.access('/usr/bin/time', os.X_OK) else 'getrusage'}.")
    print()
    print("| environment | upstream median | otel-bootstrap median | speed-up | upstream peak RSS "
          "| otel-bootstrap peak RSS | same stdout |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | :---: |")
    for name, m_up, m_ours, ratio, rss_up, rss_ours, same, gs, gr in rows:
        print(f"| {name} | {fmt_time(m_up)} | {fmt_time(m_ours)} | {ratio:.1f}× "
              f"{'✅' if gs else '❌'} | {rss_up / 1024:.1f} MiB | {rss_ours / 1024:.1f} MiB "
              f"{'✅' if gr else '❌'} | {'yes' if same else 'NO'} |")
    print()
    print(f"Goals: otel-bootstrap at least {cfg['goal_ratio']}× faster than upstream and peak "
          f"RSS at most {cfg['goal_rss_mib']} MiB: {'met' if ok else 'NOT met'}.")
    print()
    print(f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{' '.join(os.uname()[i] for i in (0, 2, 4))}.")
    return 0 if ok or not os.environ.get("BENCH_STRICT") else 1


def alternate(config_path):
    """Each command of `rows` once per round, the order reversed every other round (so
    machine load hits all alike), after 3 warm-up runs each; prints the medians."""
    with open(config_path) as f:
        config = json.load(f)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    if config.get("path"):
        env["PATH"] = config["path"]
    rows = config["rows"]

    def once(argv):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=config.get("cwd"), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        # Exit 1 is a finding (`--check`), not a failure to run.
        if done.returncode not in (0, 1):
            sys.exit(f"command failed ({done.returncode}): {argv}")
        return elapsed

    for argv in rows.values():
        for _ in range(3):
            once(argv)
    times = {name: [] for name in rows}
    for round_ in range(int(config["runs"])):
        order = list(rows.items())
        if round_ % 2:
            order.reverse()
        for name, argv in order:
            times[name].append(once(argv))
    print(json.dumps({name: statistics.median(values) for name, values in times.items()}))
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "populate":
        populate(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "compare":
        return compare(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "alternate":
        return alternate(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
