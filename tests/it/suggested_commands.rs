//! Every `otel-bootstrap …` command a message suggests runs as printed in the context that
//! printed it (issue #22): the contexts below are made for real (a real venv, lock and
//! requirements files), each `hint:`/`warning:`/`note:`/`fix:` line's backticked
//! `otel-bootstrap` commands are taken out and run by `sh` in the same directory, and each
//! must be accepted: exit 0 or 1 (a result), never 2 (refused or failed). An `-a install`
//! is run with `--dry-run` added, so that nothing is installed. The fixes that run other
//! tools (`uv add`, `poetry add`, `pip install`, …) are run as printed by
//! `check_fixes.rs` and `whole_environment.rs`.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::python::{self, command, output, stderr};

/// A real venv (no pip, made by the Python running the tests' tools) whose site-packages
/// get `dists` written as `*.dist-info` folders.
fn venv(root: &Path, dists: &[(&str, &str)]) -> PathBuf {
    let prefix = root.join("venv");
    let python3 = python::python3().expect("python3 (the test prerequisite)");
    let made = output(
        Command::new(python3)
            .args(["-m", "venv", "--without-pip"])
            .arg(&prefix),
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let site_packages = fs::read_dir(prefix.join("lib"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("site-packages"))
        .find(|path| path.is_dir())
        .expect("the venv's site-packages");
    for (name, version) in dists {
        let directory =
            site_packages.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
        fs::create_dir_all(&directory).unwrap();
        fs::write(
            directory.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"),
        )
        .unwrap();
    }
    prefix
}

/// The 0.66b1 stack and Flask.
const STACK_66: &[(&str, &str)] = &[
    ("opentelemetry-api", "1.45.1"),
    ("opentelemetry-sdk", "1.45.1"),
    ("opentelemetry-instrumentation", "0.66b1"),
    ("opentelemetry-distro", "0.66b1"),
    ("flask", "3.0.0"),
];

/// An older stack (0.60b1) with its Flask instrumentation: `--check` passes and notes the
/// newer release with the command that moves to it.
const STACK_60: &[(&str, &str)] = &[
    ("opentelemetry-api", "1.39.1"),
    ("opentelemetry-sdk", "1.39.1"),
    ("opentelemetry-instrumentation", "0.60b1"),
    ("opentelemetry-distro", "0.60b1"),
    ("opentelemetry-instrumentation-flask", "0.60b1"),
    ("opentelemetry-instrumentation-wsgi", "0.60b1"),
    ("flask", "3.0.0"),
];

/// The backticked `otel-bootstrap …` commands of the message lines of `output`'s stderr,
/// cut at a pipe (what follows is another tool).
fn suggested(output: &Output) -> Vec<String> {
    let text = stderr(output);
    let mut commands = Vec::new();
    for line in text.lines() {
        if !["hint: ", "warning: ", "note: ", "fix: ", "error: "]
            .iter()
            .any(|label| line.starts_with(label))
        {
            continue;
        }
        for (index, piece) in line.split('`').enumerate() {
            if index % 2 == 1 && piece.starts_with("otel-bootstrap ") {
                let piece = piece.split(" | ").next().unwrap_or(piece);
                commands.push(piece.to_owned());
            }
        }
    }
    commands
}

/// `PATH` as a user's: our binary and uv (the venvs have no pip) first.
fn user_path() -> std::ffi::OsString {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_otel-bootstrap"));
    let uv = python::uv().expect("uv (provisioned into target/test-tools)");
    std::env::join_paths(
        [
            bin.parent().unwrap().to_path_buf(),
            uv.parent().unwrap().to_path_buf(),
        ]
        .into_iter()
        .chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap()
}

/// Runs `suggestion` as `sh` would, with the user's `PATH`, in `cwd`; `-a install` gets
/// `--dry-run`.
fn run(cwd: &Path, suggestion: &str) -> Output {
    let path = user_path();
    let mut line = suggestion.to_owned();
    if line.contains("-a install") && !line.contains("--dry-run") {
        line.push_str(" --dry-run");
    }
    // The clean environment of `command`, but `sh` runs the line as a person would paste it.
    let cmd = command(cwd);
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(&line).current_dir(cwd).env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            sh.env(key, value);
        }
    }
    sh.env("PATH", path);
    output(&mut sh)
}

/// Runs ours with `args` in `cwd`, then every command it suggests; each must be accepted.
/// Returns the suggestions, so a test can say which it expects.
#[track_caller]
fn suggestions_run(cwd: &Path, args: &[&str]) -> Vec<String> {
    let printed = output(command(cwd).env("PATH", user_path()).args(args));
    let commands = suggested(&printed);
    for suggestion in &commands {
        let ran = run(cwd, suggestion);
        assert!(
            matches!(ran.status.code(), Some(0 | 1)),
            "`otel-bootstrap {}` suggested `{suggestion}`, which was not accepted ({}):\n{}\n--- the suggesting run ---\n{}",
            args.join(" "),
            ran.status,
            stderr(&ran),
            stderr(&printed)
        );
    }
    commands
}

#[test]
fn the_install_refusals_suggest_commands_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let venv = venv(root, STACK_66);
    let python = venv.to_str().unwrap();
    fs::write(
        root.join("requirements.txt"),
        "flask==3.0.0\nopentelemetry-sdk==1.45.1\n",
    )
    .unwrap();

    let check = suggestions_run(root, &["-a", "install", "--check", "--python", python]);
    assert!(
        check
            .iter()
            .any(|c| c.contains("--check") && c.contains(python)),
        "{check:?}"
    );
    let json = suggestions_run(
        root,
        &["-a", "install", "--format", "json", "--python", python],
    );
    assert!(
        json.iter()
            .any(|c| c.contains("--format json") && !c.contains("-a install")),
        "{json:?}"
    );
    let from = suggestions_run(
        root,
        &[
            "-a",
            "install",
            "--from",
            "requirements.txt",
            "--python",
            python,
        ],
    );
    assert!(
        from.iter().any(|c| c.contains("--from requirements.txt")),
        "{from:?}"
    );
    assert!(
        from.iter()
            .any(|c| c.contains("-a install") && c.contains(python)),
        "{from:?}"
    );
    let needed = suggestions_run(
        root,
        &["-a", "install", "--only-needed", "--python", python],
    );
    assert!(!needed.is_empty());
}

#[test]
fn the_newer_release_note_of_a_passing_check_suggests_a_command_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let venv = venv(root, STACK_60);
    let python = venv.to_str().unwrap();
    let by_python = suggestions_run(root, &["--check", "--python", python]);
    assert!(
        by_python
            .iter()
            .any(|c| c.contains("--otel-version") && c.contains(python)),
        "{by_python:?}"
    );
    // Named by its site-packages: the `-a install` it suggests names the venv instead
    // (`-a install` needs an interpreter).
    let site_packages = fs::read_dir(venv.join("lib"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("site-packages"))
        .find(|path| path.is_dir())
        .unwrap();
    let by_directory = suggestions_run(
        root,
        &[
            "--check",
            "--site-packages",
            site_packages.to_str().unwrap(),
        ],
    );
    assert!(
        by_directory
            .iter()
            .any(|c| c.contains("-a install") && c.contains("--python")),
        "{by_directory:?}"
    );
}

#[test]
fn the_no_sdk_warning_suggests_a_command_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let venv = venv(root, &[("flask", "3.0.0")]);
    let python = venv.to_str().unwrap();
    let suggested = suggestions_run(root, &["--python", python]);
    assert!(
        suggested
            .iter()
            .any(|c| c.contains("--with-distro") && c.contains(python)),
        "{suggested:?}"
    );
}
