//! The whole OpenTelemetry stack, for real: environments built from a loopback mirror of the
//! real wheels as they were on 2026-11-30 (`support::mirror`), checked with pip and uv, and
//! apps run under `opentelemetry-instrument` with their spans parsed back.
//!
//! These tests pin down the baseline the `-a install` / `--check` tests of issue #11 build
//! on: what the documented unpinned flow installs today, that pip / uv call it consistent,
//! and that the right 0.66b1 set, installed by hand, makes both apps emit a server span and
//! an outgoing client span. They assert nothing about `otel-bootstrap`'s plans beyond
//! "`--dry-run` changes nothing".

use crate::support;

use std::fs;

use support::mirror::{
    self, installed, otel_pins, parse_console_spans, versions, wheel_name_version, App, Stack,
    BY_HAND_0_66B1, FASTAPI_FLOW, FLASK_FLOW, OTEL_PINS_0_66B1, OTEL_PINS_0_66B2,
};
use support::python;

/// The distributions whose versions tell the two stacks apart.
const CORE: [&str; 9] = [
    "opentelemetry-distro",
    "opentelemetry-instrumentation",
    "opentelemetry-semantic-conventions",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-exporter-otlp-proto-grpc",
    "opentelemetry-exporter-otlp-common",
];

fn core_versions(release: &str, core: &str) -> Vec<Option<String>> {
    [
        release, release, release, core, core, core, core, core, release,
    ]
    .iter()
    .map(|version| Some((*version).to_owned()))
    .collect()
}

/// What the unpinned flow gets today.
fn today() -> Vec<Option<String>> {
    core_versions("0.66b2", "1.45.2")
}

#[track_caller]
fn assert_exit_code_is_0_or_1(output: &std::process::Output) {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "otel-bootstrap crashed or misused: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        python::stdout(output),
        python::stderr(output)
    );
}

#[test]
fn console_spans_are_parsed_from_mixed_output() {
    let stdout = "hello\n{\n    \"name\": \"GET /hello\",\n    \"context\": {\n        \"trace_id\": \"0x1\"\n    },\n    \"kind\": \"SpanKind.SERVER\",\n    \"attributes\": {\"http.route\": \"/hello\"}\n}\nnoise {\n{\n    \"name\": \"GET\",\n    \"context\": {\"trace_id\": \"0x1\"},\n    \"kind\": \"SpanKind.CLIENT\",\n    \"attributes\": {\"http.url\": \"http://127.0.0.1:1/ping\"}\n}\n{\n    \"not\": \"a span\"\n}\n";
    let spans = parse_console_spans(stdout);
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(spans[0]["kind"], "SpanKind.SERVER");
    assert_eq!(
        spans[1]["attributes"]["http.url"],
        "http://127.0.0.1:1/ping"
    );
}

#[test]
fn the_mirror_holds_exactly_the_pinned_distributions() {
    let Some(mirror) = mirror::otel_mirror() else {
        return;
    };
    let Some(python3) = python::python3() else {
        return;
    };
    let manifest = mirror::manifest(&mirror);
    let mut on_disk: Vec<String> = fs::read_dir(&mirror)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "MANIFEST.txt")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = manifest.iter().map(|(file, _)| file.clone()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "MANIFEST.txt lists exactly the mirror's files"
    );

    // The checksums hold (hashed by Python: fast).
    let code = "import hashlib, os, sys\nfor f in sorted(os.listdir(sys.argv[1])):\n    if f.endswith('.whl'):\n        print(hashlib.sha256(open(os.path.join(sys.argv[1], f), 'rb').read()).hexdigest(), f)";
    let out = python::run_ok(
        std::process::Command::new(python3)
            .args(["-I", "-c", code])
            .arg(&mirror),
    );
    let mut hashed: Vec<(String, String)> = python::stdout(&out)
        .lines()
        .map(|line| {
            let (digest, file) = line.split_once(' ').unwrap();
            (file.to_owned(), digest.to_owned())
        })
        .collect();
    hashed.sort();
    let mut manifest = manifest;
    manifest.sort();
    assert_eq!(hashed, manifest, "the files match MANIFEST.txt's sha256");

    // Every opentelemetry-* file is pinned, and every pin is there.
    let pins = otel_pins();
    let files: Vec<(String, String)> = on_disk
        .iter()
        .map(|file| wheel_name_version(file).unwrap_or_else(|| panic!("{file} is not a wheel")))
        .collect();
    for (name, version) in &files {
        if name.starts_with("opentelemetry-") {
            assert!(
                pins.contains(&(name.clone(), version.clone())),
                "{name} {version} is not pinned"
            );
        }
    }
    for pin in &pins {
        assert!(files.contains(pin), "{pin:?} is missing");
    }
    // Instrumentations only at 0.66b1: no flask (or any) instrumentation 0.66b2 or later.
    for (name, version) in &files {
        if name.starts_with("opentelemetry-instrumentation-") {
            assert_eq!(version, "0.66b1", "{name}");
        }
    }
    // Both stacks are complete: two versions of each core distribution.
    for pin in OTEL_PINS_0_66B2 {
        let (name, _) = pin.split_once("==").unwrap();
        let count = files
            .iter()
            .filter(|(file_name, _)| file_name == name)
            .count();
        assert_eq!(count, 2, "{name}: 0.66b1 / 1.45.1 and 0.66b2 / 1.45.2");
    }
    assert!(OTEL_PINS_0_66B1.len() > OTEL_PINS_0_66B2.len());
}

#[test]
fn mirror_reproduces_todays_state() {
    let Some(stack) = Stack::new() else { return };
    assert!(stack.mirror.join("MANIFEST.txt").is_file());
    let venv = stack.pip_venv("venv", FLASK_FLOW);
    assert!(
        stack.index.request_count() > 0,
        "pip used the loopback index"
    );
    assert_eq!(versions(&venv, &CORE), today());
    assert_eq!(
        versions(&venv, &["opentelemetry-instrumentation-flask", "flask"]),
        [None, Some("3.1.3".to_owned())]
    );
    stack.pip_check(&venv).assert_ok();

    // The distro alone instruments nothing: the app runs and prints no span.
    let run = stack.run_app(&venv, App::Flask);
    run.assert_no_instrumentation_spans();
    assert!(run.spans.is_empty(), "{}", run.describe());

    // `--dry-run` and `--check` change nothing.
    let before = installed(&venv);
    let dry_run = stack.install_into(&venv, false, &["--dry-run"]);
    assert_exit_code_is_0_or_1(&dry_run);
    assert_exit_code_is_0_or_1(&stack.check_venv(&venv, &[]));
    assert_eq!(installed(&venv), before);

    // The check is meaningful: moving the SDK alone breaks the exporters' requirements.
    let mut move_sdk = stack.pip(&venv);
    move_sdk.args(["install", "--no-deps", "opentelemetry-sdk==1.45.1"]);
    python::run_ok(&mut move_sdk);
    assert_eq!(
        mirror::version(&venv, "opentelemetry-sdk").as_deref(),
        Some("1.45.1")
    );
    stack.pip_check(&venv).assert_failed();
}

#[test]
fn uv_venv_and_uv_project_reproduce_todays_state() {
    let Some(stack) = Stack::new() else { return };
    let Some(venv) = stack.uv_venv("uv-venv", FASTAPI_FLOW) else {
        return;
    };
    assert!(!venv.bin("pip").exists(), "uv makes venvs without pip");
    assert_eq!(versions(&venv, &CORE), today());
    let Some(check) = stack.uv_pip_check(&venv) else {
        return;
    };
    check.assert_ok();
    // No instrumentation, but FastAPI 0.165 traces its own requests once the distro has
    // configured a tracer provider: a SERVER span (stable semantic conventions) and no
    // CLIENT span (httpx has no built-in telemetry).
    let run = stack.run_app(&venv, App::FastApi);
    run.assert_no_instrumentation_spans();
    assert_eq!(run.server_spans().len(), 1, "{}", run.describe());
    assert!(run.client_spans().is_empty(), "{}", run.describe());
    let before = installed(&venv);
    assert_exit_code_is_0_or_1(&stack.install_into(&venv, true, &["--dry-run"]));
    assert_eq!(installed(&venv), before);

    let Some(project) = stack.uv_project("app", FLASK_FLOW) else {
        return;
    };
    let pyproject = project.pyproject();
    // `uv add` records today's versions as lower bounds: the project itself forbids the
    // complete 0.66b1 release.
    for requirement in [
        "\"opentelemetry-distro>=0.66b2\"",
        "\"opentelemetry-exporter-otlp>=1.45.2\"",
        "\"flask>=3.1.3\"",
        "\"requests>=2.34.2\"",
    ] {
        assert!(
            pyproject.contains(requirement),
            "{requirement}:\n{pyproject}"
        );
    }
    assert!(
        pyproject.contains(&format!(
            "requires-python = \"=={}.*\"",
            python::python_version()
        )),
        "{pyproject}"
    );
    assert_eq!(versions(&project.venv, &CORE), today());
    let Some(check) = stack.uv_project_check(&project) else {
        return;
    };
    check.assert_ok();
    let lock = project.lock();
    assert_exit_code_is_0_or_1(&stack.install_in_project(&project, &["--dry-run"]));
    assert_eq!(project.pyproject(), pyproject);
    assert_eq!(project.lock(), lock);
}

#[test]
fn azure_monitor_resolves_only_with_the_0_66b1_stack() {
    let Some(stack) = Stack::new() else { return };
    let mut requirements = FLASK_FLOW.to_vec();
    requirements.push("azure-monitor-opentelemetry");
    let venv = stack.venv_without_pip("azure", &requirements);
    // azure-monitor-opentelemetry 1.8.11 requires the flask instrumentation, which exists
    // only at 0.66b1 (pinning opentelemetry-instrumentation==0.66b1): pip backtracks the
    // whole stack to 0.66b1 / 1.45.1.
    assert_eq!(versions(&venv, &CORE), core_versions("0.66b1", "1.45.1"));
    assert_eq!(
        versions(
            &venv,
            &[
                "azure-monitor-opentelemetry",
                "opentelemetry-instrumentation-django",
                "opentelemetry-instrumentation-psycopg2",
            ]
        ),
        [
            Some("1.8.11".to_owned()),
            Some("0.66b1".to_owned()),
            Some("0.66b1".to_owned())
        ]
    );
    stack.pip_check(&venv).assert_ok();
}

#[test]
fn spans_appear_when_instrumentations_are_installed_by_hand() {
    let Some(stack) = Stack::new() else { return };
    let venv = stack.venv_without_pip("by-hand", BY_HAND_0_66B1);
    assert_eq!(versions(&venv, &CORE), core_versions("0.66b1", "1.45.1"));
    stack.pip_check(&venv).assert_ok();

    let flask = stack.run_app(&venv, App::Flask);
    flask.assert_server_and_client_spans();
    assert_eq!(
        flask.resource_attribute("telemetry.sdk.version").as_deref(),
        Some("1.45.1")
    );
    assert_eq!(
        flask
            .resource_attribute("telemetry.auto.version")
            .as_deref(),
        Some("0.66b1")
    );
    assert_eq!(
        flask.resource_attribute("service.name").as_deref(),
        Some("t")
    );

    let fastapi = stack.run_app(&venv, App::FastApi);
    fastapi.assert_server_and_client_spans();
    // With the fastapi instrumentation present, FastAPI's own telemetry steps aside.
    assert_eq!(fastapi.server_spans().len(), 1, "{}", fastapi.describe());
    assert!(
        fastapi
            .framework_spans()
            .iter()
            .all(|span| span["kind"] != "SpanKind.SERVER"),
        "{}",
        fastapi.describe()
    );
}
