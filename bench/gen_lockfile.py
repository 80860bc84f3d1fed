#!/usr/bin/env python3
"""Writes a synthetic lock file with N packages, for bench/lockfile_parse.sh.

usage: gen_lockfile.py uv|pylock N OUT_DIR

uv: a uv.lock whose virtual root depends on every package; each package depends on the
next one (with a marker) and on the previous one, so the graph walk touches every edge.
pylock: a pylock.toml of N packages, every other one with a marker.
The project also needs opentelemetry-instrumentation so that a release is chosen.
"""
import os
import sys


def uv_lock(count):
    names = ["opentelemetry-instrumentation"] + [f"pkg-{index}" for index in range(count - 1)]
    out = ['version = 1', 'revision = 2', 'requires-python = ">=3.9"', '']
    out += ['[[package]]', 'name = "app"', 'version = "0.1.0"', 'source = { virtual = "." }', 'dependencies = [']
    out += [f'    {{ name = "{name}" }},' for name in names]
    out += [']', '']
    for index, name in enumerate(names):
        version = "0.66b1" if index == 0 else f"1.{index}.0"
        out += ['[[package]]', f'name = "{name}"', f'version = "{version}"',
                'source = { registry = "https://pypi.org/simple" }']
        deps = []
        if index + 1 < len(names):
            deps.append(f'{{ name = "{names[index + 1]}", marker = "sys_platform == \'linux\'" }}')
        if index > 1:
            deps.append(f'{{ name = "{names[index - 1]}" }}')
        if deps:
            out.append('dependencies = [' + ', '.join(deps) + ']')
        out.append(f'wheels = [{{ url = "https://files.example/{name.replace("-", "_")}-{version}-py3-none-any.whl", hash = "sha256:{index:064x}" }}]')
        out.append('')
    return "\n".join(out)


def pylock(count):
    out = ['lock-version = "1.0"', 'created-by = "bench"', '']
    for index in range(count):
        name = "opentelemetry-instrumentation" if index == 0 else f"pkg-{index}"
        version = "0.66b1" if index == 0 else f"1.{index}.0"
        out += ['[[packages]]', f'name = "{name}"', f'version = "{version}"']
        if index % 2:
            out.append('marker = "python_version >= \'3.9\' and sys_platform != \'win32\'"')
        out.append('')
    return "\n".join(out)


def main():
    kind, count, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    name, text = ("uv.lock", uv_lock(count)) if kind == "uv" else ("pylock.toml", pylock(count))
    with open(os.path.join(out_dir, name), "w") as handle:
        handle.write(text)
    print(os.path.join(out_dir, name))


if __name__ == "__main__":
    main()
