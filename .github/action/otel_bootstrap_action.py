"""The work of the otel-bootstrap GitHub Action (action.yml); Python 3.8+, standard library only.

`install`: pip installs otel-bootstrap-rs==$OTEL_BOOTSTRAP_ACTION_VERSION into a directory of
its own (`--target`, so no environment of the job changes and the installed executable never
takes that directory for the project's environment) and writes `binary=<path>` to
$GITHUB_OUTPUT.

`check`: runs `otel-bootstrap --check --format json` (with `--from` for each line of
$OTEL_BOOTSTRAP_ACTION_FROM and the words of $OTEL_BOOTSTRAP_ACTION_ARGS), prints each problem
as an `::error` workflow command, appends a table and the fix to $GITHUB_STEP_SUMMARY, writes
`passed` and `problems` to $GITHUB_OUTPUT, and exits as otel-bootstrap did (0 passed, 1
problems, 2 error).
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

DISTRIBUTION = "otel-bootstrap-rs"
VERSION_PATTERN = re.compile(r"^[0-9][0-9A-Za-z.+!-]*$")


def escape_data(text):
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text):
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name, message, **properties):
    """A workflow command line, e.g. `::error file=uv.lock,title=...::message`."""
    props = ",".join(
        "%s=%s" % (key, escape_property(str(value)))
        for key, value in properties.items()
        if value is not None
    )
    return "::%s%s::%s" % (name, " " + props if props else "", escape_data(message))


def append(variable, text):
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def set_output(name, value):
    append("GITHUB_OUTPUT", "%s=%s\n" % (name, value))


def install():
    version = os.environ.get("OTEL_BOOTSTRAP_ACTION_VERSION", "").strip()
    if not VERSION_PATTERN.match(version):
        print(command("error", "the `version` input is not a version: %r" % version))
        return 2
    parent = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    target = os.path.join(parent, "%s-%s" % (DISTRIBUTION, version))
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--upgrade",
        "--target",
        target,
    ]
    index_url = os.environ.get("OTEL_BOOTSTRAP_ACTION_INDEX_URL", "").strip()
    if index_url:
        pip += ["--index-url", index_url]
    pip.append("%s==%s" % (DISTRIBUTION, version))
    print("$ " + " ".join(shlex.quote(word) for word in pip), flush=True)
    status = subprocess.call(pip)
    if status != 0:
        print(command("error", "pip could not install %s==%s" % (DISTRIBUTION, version)))
        return 2
    for relative in ("bin/otel-bootstrap", "Scripts/otel-bootstrap.exe", "bin/otel-bootstrap.exe"):
        binary = os.path.join(target, *relative.split("/"))
        if os.path.isfile(binary):
            break
    else:
        print(command("error", "%s installed no otel-bootstrap executable in %s" % (DISTRIBUTION, target)))
        return 2
    subprocess.call([binary, "--version"])
    set_output("binary", binary)
    return 0


def relative_to_workspace(path):
    workspace = os.environ.get("GITHUB_WORKSPACE")
    absolute = os.path.abspath(path)
    if workspace:
        try:
            relative = os.path.relpath(absolute, workspace)
        except ValueError:  # another drive on Windows
            return absolute
        if not relative.startswith(".."):
            return relative.replace(os.sep, "/")
    return path.replace(os.sep, "/")


def where(problem, froms):
    """(file, line) for an annotation: the problem's `path:line` location when that file
    exists, else the one file checked, else nothing."""
    location = problem.get("location") or ""
    match = re.match(r"^(.*?)(?::(\d+))?$", location)
    if location and match and os.path.isfile(match.group(1)):
        line = match.group(2)
        return relative_to_workspace(match.group(1)), int(line) if line else None
    files = [path for path in froms if os.path.isfile(path)]
    if len(files) == 1:
        return relative_to_workspace(files[0]), None
    return None, None


def message(problem):
    if problem.get("kind") == "missing" and problem.get("requirement"):
        return "%s (%s)" % (problem["requirement"], problem.get("reason", ""))
    return problem.get("reason", "")


def cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ") or "—"


def summary(document, froms):
    subject = ", ".join("`%s`" % path for path in froms) or "the installed environment"
    problems = document.get("problems", [])
    release = document.get("release", "?")
    if document.get("passed"):
        return "### otel-bootstrap --check: passed\n\n%s: the %d recommended instrumentation(s) of release %s are in place.\n\n" % (
            subject,
            document.get("checked", 0),
            release,
        )
    lines = [
        "### otel-bootstrap --check: %d problem(s)" % len(problems),
        "",
        "%s, release %s:" % (subject, release),
        "",
        "| problem | instrumentation | wanted | found | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for problem in problems:
        lines.append(
            "| %s | %s | %s | %s | %s |"
            % (
                cell(problem.get("kind")),
                cell(problem.get("name")),
                cell("`%s`" % problem["requirement"] if problem.get("requirement") else ""),
                cell(problem.get("installed")),
                cell(problem.get("reason")),
            )
        )
    fix = document.get("fix") or []
    if fix:
        lines += ["", "The fix:", "", "```sh"] + fix + ["```"]
    return "\n".join(lines) + "\n\n"


def check():
    binary = os.environ.get("OTEL_BOOTSTRAP_ACTION_BINARY") or "otel-bootstrap"
    froms = [line.strip() for line in os.environ.get("OTEL_BOOTSTRAP_ACTION_FROM", "").splitlines() if line.strip()]
    args = shlex.split(os.environ.get("OTEL_BOOTSTRAP_ACTION_ARGS", ""))
    argv = [binary, "--check", "--format", "json"]
    for path in froms:
        argv += ["--from", path]
    argv += args
    print("$ " + " ".join(shlex.quote(word) for word in argv), flush=True)
    run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    sys.stderr.write(run.stderr)
    sys.stderr.flush()
    document = None
    if run.returncode in (0, 1):
        try:
            document = json.loads(run.stdout)
        except ValueError:
            document = None
    if document is None:
        errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        text = "\n".join(errors) or "otel-bootstrap exited %d" % run.returncode
        print(command("error", text, title="otel-bootstrap"))
        append("GITHUB_STEP_SUMMARY", "### otel-bootstrap --check: error\n\n```\n%s\n```\n\n" % run.stderr.strip())
        set_output("passed", "false")
        return run.returncode if run.returncode not in (0, 1) else 2
    problems = document.get("problems", [])
    for problem in problems:
        path, line = where(problem, froms)
        print(command("error", message(problem), file=path, line=line, title="otel-bootstrap: %s" % problem.get("kind")))
    for fix in document.get("fix") or []:
        print("fix: " + fix)
    append("GITHUB_STEP_SUMMARY", summary(document, froms))
    set_output("passed", "true" if document.get("passed") else "false")
    set_output("problems", str(len(problems)))
    return run.returncode


def main(argv):
    if argv[1:] == ["install"]:
        return install()
    if argv[1:] == ["check"]:
        return check()
    sys.stderr.write("usage: otel_bootstrap_action.py install|check\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
