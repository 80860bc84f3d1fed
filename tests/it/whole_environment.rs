//! `-a install` and `--check` on the whole environment, for real: the documented flow
//! (`pip install opentelemetry-distro opentelemetry-exporter-otlp` plus an app, then
//! `otel-bootstrap -a install`) in a pip venv, a `uv venv` and a uv project, against the
//! loopback mirror of the real wheels as they were on 2026-11-30 (0.66b2 partial, api/sdk
//! 1.45.2). Each ends with the installer's own check passing and the app's spans printed
//! under `opentelemetry-instrument`.

use crate::support;

use std::fs;
use std::process::Output;

use support::mirror::{self, version, versions, App, Stack, FASTAPI_FLOW, FLASK_FLOW};
use support::python;

/// The stack after the install: release 0.66b1 with the API/SDK 1.45.1 it pairs with.
const MOVED: [(&str, &str); 9] = [
    ("opentelemetry-distro", "0.66b1"),
    ("opentelemetry-instrumentation", "0.66b1"),
    ("opentelemetry-semantic-conventions", "0.66b1"),
    ("opentelemetry-exporter-otlp-common", "0.66b1"),
    ("opentelemetry-api", "1.45.1"),
    ("opentelemetry-sdk", "1.45.1"),
    ("opentelemetry-exporter-otlp", "1.45.1"),
    ("opentelemetry-exporter-otlp-proto-http", "1.45.1"),
    ("opentelemetry-exporter-otlp-proto-grpc", "1.45.1"),
];

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        python::stdout(output),
        python::stderr(output)
    );
}

#[track_caller]
fn assert_moved(venv: &python::Venv) {
    let names: Vec<&str> = MOVED.iter().map(|(name, _)| *name).collect();
    let expected: Vec<Option<String>> = MOVED
        .iter()
        .map(|(_, version)| Some((*version).to_owned()))
        .collect();
    assert_eq!(versions(venv, &names), expected, "{names:?}");
}

/// Every package whose version changes is named before anything changes, api and sdk
/// included.
#[track_caller]
fn assert_moves_announced(stderr: &str) {
    for line in [
        "opentelemetry-sdk 1.45.2 -> 1.45.1",
        "opentelemetry-api 1.45.2 -> 1.45.1",
        "opentelemetry-exporter-otlp-proto-http 1.45.2 -> 1.45.1",
        "opentelemetry-exporter-otlp-common 0.66b2 -> 0.66b1",
    ] {
        assert!(stderr.contains(line), "`{line}` not announced:\n{stderr}");
    }
}

#[test]
fn the_documented_flow_in_a_pip_venv_ends_consistent_and_traced() {
    let Some(stack) = Stack::new() else { return };
    let venv = stack.pip_venv("pip-flask", FLASK_FLOW);
    let output = stack.install_into(&venv, false, &[]);
    assert_exit(&output, 0);
    let stderr = python::stderr(&output);
    assert_moves_announced(&stderr);
    assert!(stderr.contains("with pip install"), "{stderr}");
    // The documented flow's output fits one screen, the result list included (#22).
    assert!(stderr.lines().count() <= 40, "{stderr}");
    stack.pip_check(&venv).assert_ok();
    // The tool agrees with itself: the check right after the install passes.
    assert_exit(&stack.check_venv(&venv, &[]), 0);
    assert_moved(&venv);
    assert_eq!(
        version(&venv, "opentelemetry-instrumentation-flask").as_deref(),
        Some("0.66b1")
    );
    stack
        .run_app(&venv, App::Flask)
        .assert_server_and_client_spans();
    // A second run has nothing to do, and says so.
    let again = stack.install_into(&venv, false, &[]);
    assert_exit(&again, 0);
    assert!(
        python::stderr(&again).contains("Nothing to install"),
        "{}",
        python::stderr(&again)
    );
}

#[test]
fn the_documented_flow_in_a_uv_venv_ends_consistent_and_traced() {
    let Some(stack) = Stack::new() else { return };
    let Some(venv) = stack.uv_venv("uv-fastapi", FASTAPI_FLOW) else {
        return;
    };
    let output = stack.install_into(&venv, true, &[]);
    assert_exit(&output, 0);
    assert_moves_announced(&python::stderr(&output));
    stack.uv_pip_check(&venv).expect("uv").assert_ok();
    assert_exit(&stack.check_venv(&venv, &[]), 0);
    assert_moved(&venv);
    stack
        .run_app(&venv, App::FastApi)
        .assert_server_and_client_spans();
}

#[test]
fn the_documented_flow_in_a_uv_project_rewrites_the_blocking_requirements() {
    let Some(stack) = Stack::new() else { return };
    let Some(project) = stack.uv_project("project-flask", FLASK_FLOW) else {
        return;
    };
    let output = stack.install_in_project(&project, &[]);
    assert_exit(&output, 0);
    let stderr = python::stderr(&output);
    for line in [
        "The project requires `opentelemetry-distro>=0.66b2`, which forbids release `0.66b1`: `uv add` re-adds it as `opentelemetry-distro>=0.66b1`",
        "The project requires `opentelemetry-exporter-otlp>=1.45.2`, which forbids release `0.66b1`: `uv add` re-adds it as `opentelemetry-exporter-otlp>=1.45.1`",
    ] {
        assert!(stderr.contains(line), "`{line}` not said:\n{stderr}");
    }
    let pyproject = project.pyproject();
    assert!(
        pyproject.contains("\"opentelemetry-distro>=0.66b1\""),
        "{pyproject}"
    );
    assert!(
        pyproject.contains("\"opentelemetry-exporter-otlp>=1.45.1\""),
        "{pyproject}"
    );
    assert!(
        pyproject.contains("\"opentelemetry-instrumentation-flask==0.66b1\""),
        "{pyproject}"
    );
    // Core packages follow through the lock; they are not direct dependencies.
    for core in [
        "\"opentelemetry-instrumentation==",
        "\"opentelemetry-semantic-conventions",
        "\"opentelemetry-sdk",
        "\"opentelemetry-api",
    ] {
        assert!(!pyproject.contains(core), "{core} was added:\n{pyproject}");
    }
    stack.uv_project_check(&project).expect("uv").assert_ok();
    assert_moved(&project.venv);
    stack
        .run_app(&project.venv, App::Flask)
        .assert_server_and_client_spans();
}

#[test]
fn a_uv_project_without_its_environment_is_refused() {
    let Some(stack) = Stack::new() else { return };
    let Some(project) = stack.uv_project("project-unsynced", FLASK_FLOW) else {
        return;
    };
    fs::remove_dir_all(&project.venv.root).unwrap();
    let pyproject = project.pyproject();
    let lock = project.lock();
    let output = stack.install_in_project(&project, &["--dry-run"]);
    assert_exit(&output, 2);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("is a uv project without its environment"),
        "{stderr}"
    );
    assert!(
        stderr.contains("uv sync") && stderr.contains("--from uv.lock"),
        "{stderr}"
    );
    assert!(!project.venv.root.exists());
    assert_eq!(project.pyproject(), pyproject);
    assert_eq!(project.lock(), lock);
}

#[test]
fn with_distro_takes_a_bare_app_to_working_telemetry() {
    let Some(stack) = Stack::new() else { return };
    let venv = stack.pip_venv("bare-flask", &["flask", "requests"]);
    // Without an SDK, every mode says nothing would be exported.
    let dry = stack.install_into(&venv, false, &["--dry-run"]);
    assert_exit(&dry, 0);
    assert!(
        python::stderr(&dry).contains("there is no `opentelemetry-sdk` here"),
        "{}",
        python::stderr(&dry)
    );
    let output = stack.install_into(&venv, false, &["--with-distro"]);
    assert_exit(&output, 0);
    stack.pip_check(&venv).assert_ok();
    // The exporter brought grpcio: its instrumentation came in a second step, so the
    // tool agrees with itself right away (#22 item 3).
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("The install brought grpcio ")
            && stderr.contains("instrumentation in a second step"),
        "{stderr}"
    );
    assert_eq!(
        versions(&venv, &["opentelemetry-instrumentation-grpc"]),
        [Some("0.66b1".into())]
    );
    let check = stack.check_venv(&venv, &[]);
    assert_exit(&check, 0);
    assert_eq!(
        versions(
            &venv,
            &[
                "opentelemetry-distro",
                "opentelemetry-sdk",
                "opentelemetry-exporter-otlp"
            ]
        ),
        [
            Some("0.66b1".into()),
            Some("1.45.1".into()),
            Some("1.45.1".into())
        ]
    );
    stack
        .run_app(&venv, App::Flask)
        .assert_server_and_client_spans();
}

#[test]
fn check_fails_on_a_broken_stack_and_its_fix_repairs_it() {
    let Some(stack) = Stack::new() else { return };
    let venv = stack.pip_venv("broken", FLASK_FLOW);
    let installed = stack.install_into(&venv, false, &[]);
    assert_exit(&installed, 0);
    // Break it the way a stray `--no-deps` install does.
    let output = stack.pip_install(&venv, &["--no-deps", "opentelemetry-sdk==1.45.2"]);
    assert!(output.status.success(), "{}", python::stderr(&output));
    stack.pip_check(&venv).assert_failed();

    let check = stack.check_venv(&venv, &[]);
    assert_exit(&check, 1);
    let stdout = python::stdout(&check);
    assert!(
        stdout.contains("inconsistent: opentelemetry-sdk 1.45.2 requires `opentelemetry-api==1.45.2`, but opentelemetry-api 1.45.1 is installed"),
        "{stdout}"
    );
    let stderr = python::stderr(&check);
    // The fix uses the checked environment's own pip, whatever `pip` on PATH is.
    let fix = stderr
        .lines()
        .find_map(|line| line.strip_prefix("fix: "))
        .and_then(|fix| fix.split_once(" -m pip install "))
        .map(|(python, requirements)| {
            assert!(python.contains("/bin/python"), "{python}");
            requirements
        })
        .unwrap_or_else(|| panic!("no fix:\n{stderr}"));
    assert!(fix.contains("opentelemetry-sdk==1.45.1"), "{fix}");
    let requirements: Vec<&str> = fix
        .split_whitespace()
        .map(|token| token.trim_matches('\''))
        .collect();
    let repaired = stack.pip_install(&venv, &requirements);
    assert!(repaired.status.success(), "{}", python::stderr(&repaired));
    stack.pip_check(&venv).assert_ok();
    assert_exit(&stack.check_venv(&venv, &[]), 0);

    // An install over a broken environment names what was broken before, and is not blamed.
    let output = stack.pip_install(&venv, &["--no-deps", "opentelemetry-sdk==1.45.2"]);
    assert!(output.status.success(), "{}", python::stderr(&output));
    let again = stack.install_into(&venv, false, &[]);
    let stderr = python::stderr(&again);
    assert!(stderr.contains("already had"), "{stderr}");
}

#[test]
fn check_keeps_the_instrumentations_a_vendor_distro_requires() {
    let Some(stack) = Stack::new() else { return };
    let venv = stack.pip_venv("azure", &["azure-monitor-opentelemetry", "flask"]);
    let check = stack.check_venv(&venv, &[]);
    assert!(
        matches!(check.status.code(), Some(0 | 1)),
        "{}",
        python::stderr(&check)
    );
    let stdout = python::stdout(&check);
    assert!(!stdout.contains("stale:"), "{stdout}");
    let stderr = python::stderr(&check);
    for name in ["django", "fastapi", "httpx", "psycopg2"] {
        let note = format!(
            "note: opentelemetry-instrumentation-{name} is not stale: azure-monitor-opentelemetry"
        );
        assert!(stderr.contains(&note), "`{note}` missing:\n{stderr}");
    }
    // The fix it prints leaves the vendor distro working.
    if let Some((_, fix)) = stderr
        .lines()
        .find_map(|line| line.strip_prefix("fix: "))
        .and_then(|fix| fix.split_once(" -m pip install "))
    {
        let requirements: Vec<&str> = fix
            .split_whitespace()
            .map(|token| token.trim_matches('\''))
            .collect();
        let output = stack.pip_install(&venv, &requirements);
        assert!(output.status.success(), "{}", python::stderr(&output));
    }
    stack.pip_check(&venv).assert_ok();
    assert!(mirror::version(&venv, "azure-monitor-opentelemetry").is_some());
}
