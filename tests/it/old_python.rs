//! Python 3.9 and 3.8, end to end with real interpreters, real pip and real wheels
//! (`tests/support/mirror_old_python.rs`): every printed pin installs, `-a install` leaves a
//! consistent environment that exports a Flask span, and no message suggests a release the
//! interpreter cannot install (issue #24).

use std::process::Output;

use crate::support::mirror::{self, App, Stack};
use crate::support::mirror_old_python::{OldPython, FLASK_FLOW, PYTHON_38, PYTHON_39};
use crate::support::python::{self, Venv};

/// `exit N`, then stdout, then stderr: what a person reads.
fn shown(out: &Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code().unwrap_or(-1),
        python::stdout(out),
        python::stderr(out)
    )
}

/// `otel-bootstrap --python <venv> <args>` (requirements mode unless `args` say otherwise).
fn ours(stack: &Stack, venv: &Venv, args: &[&str]) -> Output {
    let mut cmd = stack.ours(stack.dir.path(), &mirror::path_without_uv());
    cmd.arg("--python").arg(&venv.root).args(args);
    python::output(&mut cmd)
}

/// `pip install --dry-run <requirements>` into `venv` from the loopback index.
#[track_caller]
fn dry_run_installs(stack: &Stack, venv: &Venv, requirements: &[String]) {
    let mut cmd = stack.pip(venv);
    cmd.args(["install", "--dry-run"]).args(requirements);
    python::run_ok(&mut cmd);
}

/// A Flask + requests venv on `old`'s Python: the pins printed install, `--otel-version`
/// of a release it cannot install is refused, `-a install --with-distro` gives a consistent
/// environment with a Flask server span, and `--check` then suggests nothing.
fn end_to_end(old: &OldPython) -> Option<()> {
    let stack = old.stack()?;
    let venv = old.pip_venv(&stack, "app", &["flask", "requests"]);

    // Requirements mode: the newest release for this Python, and every pin installs.
    let printed = ours(&stack, &venv, &["-v"]);
    assert_eq!(printed.status.code(), Some(0), "{}", shown(&printed));
    let pins = python::stdout_lines(&printed);
    assert!(
        pins.iter()
            .all(|line| line.ends_with(&format!("=={}", old.release))),
        "{}",
        shown(&printed)
    );
    insta::assert_snapshot!(
        format!("requirements_python_{}", old.version),
        pins.join("\n")
    );
    let because = format!(
        "(no opentelemetry-instrumentation installed: the newest release for Python {}; ",
        old.version
    );
    assert!(
        python::stderr(&printed).contains(&because),
        "{}",
        shown(&printed)
    );
    dry_run_installs(&stack, &venv, &pins);

    // A release this Python cannot install: exit 2 before installing anything, naming the
    // newest one it can.
    let before = mirror::installed(&venv);
    let refused = ours(
        &stack,
        &venv,
        &["-a", "install", "--otel-version", "0.66b1"],
    );
    insta::assert_snapshot!(
        format!("otel_version_0_66b1_python_{}", old.version),
        shown(&refused)
    );
    assert_eq!(mirror::installed(&venv), before, "nothing was installed");

    // -a install --with-distro: consistent, and the Flask app exports its server span.
    let installed = stack.install_into(&venv, false, &["--with-distro"]);
    assert_eq!(installed.status.code(), Some(0), "{}", shown(&installed));
    stack.pip_check(&venv).assert_ok();
    assert_eq!(
        mirror::versions(&venv, &["opentelemetry-distro", "opentelemetry-sdk"]),
        [Some(old.release.to_owned()), Some(old.core.to_owned())]
    );
    let run = stack.run_app(&venv, App::Flask);
    assert!(
        !run.instrumented_server_spans().is_empty(),
        "{}",
        run.describe()
    );

    // The exporter brought grpcio, whose instrumentation the same run added in a second
    // step (as on any Python); a second run has nothing to do, and --check on the current
    // environment for this Python passes, with no "older than" note and no suggestion of
    // another release.
    install_then_check_clean(&stack, &venv);
    Some(())
}

/// `-a install` (no distro) exits 0 and leaves a consistent environment; `--check` then
/// passes with no "older than" note and no release suggested (none newer fits this Python).
#[track_caller]
fn install_then_check_clean(stack: &Stack, venv: &Venv) {
    let installed = stack.install_into(venv, false, &[]);
    assert_eq!(installed.status.code(), Some(0), "{}", shown(&installed));
    stack.pip_check(venv).assert_ok();
    let checked = stack.check_venv(venv, &[]);
    assert_eq!(checked.status.code(), Some(0), "{}", shown(&checked));
    let stderr = python::stderr(&checked);
    for never in ["older than", "--otel-version", "0.66b1"] {
        assert!(!stderr.contains(never), "{}", shown(&checked));
    }
}

#[test]
fn python_39_end_to_end() {
    end_to_end(&PYTHON_39);
}

#[test]
fn python_38_end_to_end() {
    end_to_end(&PYTHON_38);
}

/// What pip installs unpinned on 3.9 is the 0.62b1 stack; `-a install` (without the
/// distro) keeps it, and `--check` has nothing to say about 0.66b1.
#[test]
fn python_39_current_environment_checks_clean() {
    let Some(stack) = PYTHON_39.stack() else {
        return;
    };
    let venv = PYTHON_39.pip_venv(&stack, "current", FLASK_FLOW);
    assert_eq!(
        mirror::version(&venv, "opentelemetry-instrumentation").as_deref(),
        Some("0.62b1")
    );
    install_then_check_clean(&stack, &venv);
}

/// The Dockerfile recipe for a 3.9 image: `--from requirements.txt --python-version 3.9
/// --platform linux` prints 0.62b1 pins, and they install in a 3.9 venv.
#[test]
fn python_39_from_requirements_pins_install() {
    let Some(stack) = PYTHON_39.stack() else {
        return;
    };
    let requirements = stack.path("requirements.txt");
    std::fs::write(&requirements, "flask==3.1.3\nrequests==2.32.5\n").unwrap();
    let mut cmd = stack.ours(stack.dir.path(), &mirror::path_without_uv());
    cmd.arg("--from")
        .arg(&requirements)
        .args(["--python-version", "3.9", "--platform", "linux"]);
    let printed = python::output(&mut cmd);
    assert_eq!(printed.status.code(), Some(0), "{}", shown(&printed));
    let pins = python::stdout_lines(&printed);
    insta::assert_snapshot!(pins.join("\n"));
    let venv = PYTHON_39.pip_venv(&stack, "image", &["-r", requirements.to_str().unwrap()]);
    let mut install: Vec<&str> = pins.iter().map(String::as_str).collect();
    install.push("opentelemetry-distro==0.62b1");
    stack.pip_install(&venv, &install);
    stack.pip_check(&venv).assert_ok();
}
