//! `--from Pipfile.lock` and `--from pdm.lock` against the real tools (issue #23): real
//! pipenv and PDM lock a project on the loopback mirror, sync it into a venv, and the plan
//! read from the lock equals the plan of the synced environment, for each selection. Also
//! the messages for JSON or TOML that is not a lock (never read as requirements).

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::mirror::{path_without_uv, Stack};
use support::python::{self, output, run_ok, stderr, stdout};
use support::tools_lock::{self, Tool};

/// Our binary in the project, hermetic, with `args`.
fn ours(stack: &Stack, root: &Path, args: &[&str]) -> Output {
    output(stack.ours(root, &path_without_uv()).args(args))
}

/// The requirements our binary prints for the synced `.venv` and for `--from <lock>
/// <selection>`: equal, and exit 0 both.
#[track_caller]
fn same_plan(stack: &Stack, root: &Path, lock: &str, selection: &[&str]) -> Vec<String> {
    let environment = ours(stack, root, &["--python", ".venv"]);
    assert_eq!(
        environment.status.code(),
        Some(0),
        "{}",
        stderr(&environment)
    );
    let mut args = vec!["--from", lock];
    args.extend(selection);
    let locked = ours(stack, root, &args);
    assert_eq!(locked.status.code(), Some(0), "{}", stderr(&locked));
    assert_eq!(
        stdout(&locked),
        stdout(&environment),
        "--from {lock} {selection:?} differs from the synced environment\n--- from the lock, stderr ---\n{}",
        stderr(&locked)
    );
    stdout(&locked).lines().map(str::to_owned).collect()
}

/// `tool args` in `root`, hermetic with the tool's settings for the loopback index; must
/// succeed.
#[track_caller]
fn run_tool(stack: &Stack, tool: &Tool, root: &Path, args: &[&str]) -> Output {
    let mut command = tool.command(stack, root, &path_without_uv());
    tools_lock::loopback(&mut command, stack);
    // PDM installs into the project's `.venv` when it is the interpreter it is given.
    let venv_python = root.join(".venv/bin/python");
    if venv_python.is_file() {
        command.env("PDM_PYTHON", venv_python);
    }
    command.args(args);
    run_ok(&mut command)
}

fn has(lines: &[String], name: &str) -> bool {
    lines.iter().any(|line| line.starts_with(name))
}

#[test]
fn pipfile_lock_reads_as_pipenv_sync_installs() {
    let Some(pipenv) = tools_lock::pipenv() else {
        return;
    };
    let Some(stack) = Stack::new() else { return };
    let root = stack.path("pipenv-app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("Pipfile"),
        format!(
            "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"mirror\"\n\n\
             [packages]\nflask = \"*\"\nrequests = \"*\"\nopentelemetry-distro = \"*\"\n\
             opentelemetry-exporter-otlp = \"*\"\n\n[dev-packages]\nhttpx = \"*\"\n",
            stack.index.url()
        ),
    )
    .unwrap();
    run_tool(&stack, &pipenv, &root, &["lock"]);
    run_tool(&stack, &pipenv, &root, &["sync"]);
    let default = same_plan(&stack, &root, "Pipfile.lock", &[]);
    assert!(
        has(&default, "opentelemetry-instrumentation-flask"),
        "{default:?}"
    );
    assert!(
        !has(&default, "opentelemetry-instrumentation-httpx"),
        "{default:?}"
    );
    run_tool(&stack, &pipenv, &root, &["sync", "--dev"]);
    let dev = same_plan(&stack, &root, "Pipfile.lock", &["--dev"]);
    assert!(has(&dev, "opentelemetry-instrumentation-httpx"), "{dev:?}");
    // `--from DIR` finds it; `-v` names the format.
    let verbose = ours(&stack, &root, &["--from", ".", "-v"]);
    assert!(
        stderr(&verbose).contains("(Pipfile.lock)"),
        "{}",
        stderr(&verbose)
    );
}

#[test]
fn pdm_lock_reads_as_pdm_sync_installs() {
    let Some(pdm) = tools_lock::pdm() else {
        return;
    };
    let Some(stack) = Stack::new() else { return };
    let root = stack.path("pdm-app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \"=={}.*\"\n\
             dependencies = [\"flask\", \"requests\", \"opentelemetry-distro\", \"opentelemetry-exporter-otlp\"]\n\n\
             [project.optional-dependencies]\nweb = [\"fastapi\"]\n\n\
             [dependency-groups]\ndev = [\"httpx\"]\n\n[tool.pdm]\ndistribution = false\n",
            python::python_version()
        ),
    )
    .unwrap();
    run_tool(&stack, &pdm, &root, &["lock", "-G", ":all"]);
    // The project's `.venv` (without pip: PDM installs with its own installer).
    python::venv(&root.join(".venv")).expect("python3");
    run_tool(&stack, &pdm, &root, &["sync"]);
    // No selection: every group the lock holds.
    let default = same_plan(&stack, &root, "pdm.lock", &[]);
    assert!(
        has(&default, "opentelemetry-instrumentation-httpx"),
        "{default:?}"
    );
    assert!(
        has(&default, "opentelemetry-instrumentation-fastapi"),
        "{default:?}"
    );
    run_tool(
        &stack,
        &pdm,
        &root,
        &["sync", "--only-keep", "--prod", "-G", "web"],
    );
    let web = same_plan(&stack, &root, "pdm.lock", &["--no-dev", "--extra", "web"]);
    assert!(
        has(&web, "opentelemetry-instrumentation-fastapi"),
        "{web:?}"
    );
    assert!(!has(&web, "opentelemetry-instrumentation-httpx"), "{web:?}");
    run_tool(&stack, &pdm, &root, &["sync", "--only-keep", "--prod"]);
    let production = same_plan(&stack, &root, "pdm.lock", &["--no-dev"]);
    assert!(
        !has(&production, "opentelemetry-instrumentation-fastapi"),
        "{production:?}"
    );
    // Called what it is.
    let verbose = ours(&stack, &root, &["--from", "pdm.lock", "-v"]);
    let text = stderr(&verbose);
    assert!(text.contains("(pdm.lock)"), "{text}");
    assert!(!text.contains("poetry"), "{text}");
}

/// Exit code, stdout and stderr, with the temporary directory replaced.
fn transcript(output: &Output, root: &Path) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
    .replace(&root.display().to_string(), "[ROOT]")
}

#[test]
fn json_and_toml_that_are_not_locks_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    fs::write(root.join("deps.json"), "{\"flask\": \"3.0.0\"}\n").unwrap();
    fs::write(
        root.join("requirements.txt"),
        "[tool.poetry]\nname = \"a\"\n",
    )
    .unwrap();
    let run = |from: &str| {
        output(python::command(root).args([
            "--python-version",
            "3.11",
            "--platform",
            "linux",
            "--from",
            from,
        ]))
    };
    insta::assert_snapshot!("unknown_json", transcript(&run("deps.json"), root));
    insta::assert_snapshot!(
        "toml_requirements",
        transcript(&run("requirements.txt"), root)
    );
}

#[test]
fn lock_fixtures_read_with_their_selections() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles");
    let run = |from: &str, selection: &[&str]| {
        let mut command = python::command(&fixtures);
        command
            .args([
                "--python-version",
                "3.11",
                "--platform",
                "linux",
                "--from",
                from,
                "-v",
            ])
            .args(selection);
        transcript(&output(&mut command), &fixtures)
    };
    insta::assert_snapshot!("pipfile_default", run("pipfile/Pipfile.lock", &[]));
    insta::assert_snapshot!(
        "pipfile_dev_docs",
        run("pipfile/Pipfile.lock", &["--dev", "--group", "docs"])
    );
    insta::assert_snapshot!(
        "pipfile_unknown_category",
        run("pipfile/Pipfile.lock", &["--group", "lint"])
    );
    insta::assert_snapshot!(
        "pdm_unknown_group",
        run("pdm/pdm.lock", &["--group", "lint"])
    );
    insta::assert_snapshot!("pdm_default", run("pdm/pdm.lock", &[]));
    insta::assert_snapshot!(
        "pdm_prod_postgres",
        run("pdm/pdm.lock", &["--no-dev", "--extra", "postgres"])
    );
}
