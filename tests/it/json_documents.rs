//! Every JSON document the tool prints, whole, as an insta snapshot: the recommendations
//! for an environment and for a lockfile, `--check` on both, and `registry show`. (The
//! `explain` document has its own snapshots in `explain.rs`.) Paths of the test's
//! temporary directories and the version in `tool` are replaced by placeholders, so a
//! change to any field shows up as a snapshot diff.

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::python::{command, fake_dists, output, stderr};

/// The document on stdout, with `root` (and the manifest directory) replaced.
fn document(out: &Output, roots: &[&Path]) -> Value {
    let mut text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    for root in roots {
        text = text.replace(&root.display().to_string(), "[root]");
    }
    text = text.replace(
        concat!("otel-bootstrap ", env!("CARGO_PKG_VERSION")),
        "otel-bootstrap [version]",
    );
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// A site-packages directory: the 0.66b1 core and SDK, flask in range, celery out of
/// range, the redis instrumentation without redis (stale), and a broken folder.
fn environment(root: &Path) -> std::path::PathBuf {
    let site = root.join("site-packages");
    fake_dists(
        &site,
        &[
            ("opentelemetry-instrumentation", "0.66b1"),
            ("opentelemetry-sdk", "1.45.1"),
            ("flask", "3.0.0"),
            ("celery", "6.0.0"),
            ("opentelemetry-instrumentation-redis", "0.66b1"),
            ("opentelemetry-instrumentation-flask", "0.66b1"),
        ],
    );
    std::fs::create_dir_all(site.join("broken-1.0.dist-info")).unwrap();
    site
}

#[test]
fn the_environment_document() {
    let temp = tempfile::tempdir().unwrap();
    let site = environment(temp.path());
    let out = output(
        command(temp.path())
            .args(["--format", "json", "--site-packages"])
            .arg(&site),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_json_snapshot!(document(&out, &[temp.path()]));
}

#[test]
fn the_check_document_of_an_environment() {
    let temp = tempfile::tempdir().unwrap();
    let site = environment(temp.path());
    let out = output(
        command(temp.path())
            .args(["--check", "--format", "json", "--site-packages"])
            .arg(&site),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_json_snapshot!(document(&out, &[temp.path()]));
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles")
}

#[test]
fn the_lockfile_document_and_its_check() {
    let temp = tempfile::tempdir().unwrap();
    let lock = fixtures().join("requirements/requirements.txt");
    let base = [
        "--from",
        lock.to_str().unwrap(),
        "--python-version",
        "3.12",
        "--platform",
        "linux",
        "--format",
        "json",
    ];
    let out = output(command(temp.path()).args(base));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_json_snapshot!("lockfile", document(&out, &[temp.path(), &fixtures()]));
    let out = output(command(temp.path()).args(base).arg("--check"));
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    insta::assert_json_snapshot!(
        "lockfile_check",
        document(&out, &[temp.path(), &fixtures()])
    );
}

#[test]
fn the_registry_release_document() {
    let temp = tempfile::tempdir().unwrap();
    let out = output(command(temp.path()).args(["registry", "show", "0.41b0", "--format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_json_snapshot!(document(&out, &[temp.path()]));
}
