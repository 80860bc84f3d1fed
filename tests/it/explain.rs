//! `otel-bootstrap explain` (the report a person reads), the `relevance` of each
//! recommendation in `--format json`, and `--only-needed`. Environments are plain
//! site-packages directories whose `METADATA` carries `Requires-Dist` lines, so no Python
//! is needed.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::python::{command, dist_info_stem, output, stderr, stdout};

/// A site-packages directory in a temporary root (the working directory of the runs).
struct Site {
    _temporary: tempfile::TempDir,
    root: PathBuf,
    site_packages: PathBuf,
}

impl Site {
    fn new() -> Self {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path().to_path_buf();
        let site_packages = root.join("site-packages");
        fs::create_dir_all(&site_packages).unwrap();
        Self {
            _temporary: temporary,
            root,
            site_packages,
        }
    }

    /// Writes `<name>-<version>.dist-info/METADATA` with these `Requires-Dist` lines.
    fn dist(&self, name: &str, version: &str, requires: &[&str]) -> &Self {
        let directory = self
            .site_packages
            .join(format!("{}-{version}.dist-info", dist_info_stem(name)));
        fs::create_dir_all(&directory).unwrap();
        let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for requirement in requires {
            metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        fs::write(directory.join("METADATA"), metadata).unwrap();
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], environment: &[(&str, &str)]) -> Output {
        let mut command = command(&self.root);
        for (key, value) in environment {
            command.env(key, value);
        }
        output(
            command
                .args(args)
                .arg("--site-packages")
                .arg(&self.site_packages),
        )
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// The issue's environment: a FastAPI application (fastapi, starlette under it), the OTLP
/// HTTP exporter pulling in requests (and urllib3 under it), and SQLAlchemy 2.1.9, beyond
/// every bundled instrumentation's range.
fn done_when() -> Site {
    let site = Site::new();
    site.dist(
        "fastapi",
        "0.115.0",
        &["starlette<0.42.0,>=0.40.0", "pydantic>=1.7.4"],
    )
    .dist("starlette", "0.41.2", &["anyio<5,>=3.4.0"])
    .dist("pydantic", "2.9.2", &[])
    .dist("anyio", "4.6.0", &[])
    .dist("SQLAlchemy", "2.1.9", &[])
    .dist(
        "opentelemetry-exporter-otlp-proto-http",
        "1.45.1",
        &["requests~=2.7", "opentelemetry-sdk~=1.45.1"],
    )
    .dist("requests", "2.32.3", &["urllib3<3,>=1.21.1"])
    .dist("urllib3", "2.2.3", &[])
    .dist("opentelemetry-sdk", "1.45.1", &[])
    .dist("opentelemetry-instrumentation", "0.66b1", &[])
    .dist(
        "opentelemetry-instrumentation-fastapi",
        "0.66b1",
        &["opentelemetry-instrumentation-asgi==0.66b1"],
    );
    site
}

fn recommendation<'a>(document: &'a serde_json::Value, short: &str) -> &'a serde_json::Value {
    let name = format!("opentelemetry-instrumentation-{short}");
    document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} is not recommended: {document:#}"))
}

/// What a snapshot keeps of an `explain --format json` document: no paths, no tool version.
fn stable(document: &serde_json::Value) -> serde_json::Value {
    let stable = serde_json::json!({
        "release": document["release"],
        "rows": document["rows"],
        "install": document["install"],
        "remove": document["remove"],
        "outdated": document["outdated"],
        "only_needed": document["only_needed"],
    });
    without_temp(&stable)
}

/// `document` with the temporary directories in suggested commands (they repeat the
/// target's flags) replaced by `[TEMP]`.
fn without_temp(document: &serde_json::Value) -> serde_json::Value {
    let text = document.to_string();
    let temp = std::env::temp_dir().display().to_string();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&format!("{temp}/.tmp")) {
        out.push_str(&rest[..at]);
        out.push_str("[TEMP]");
        let tail = &rest[at + temp.len() + 1..];
        let end = tail.find('/').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn done_when_the_issue_environment_is_explained() {
    let site = done_when();

    // The default output is upstream's lines, unchanged: starlette and requests included.
    let out = site.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    for short in ["fastapi", "requests", "starlette", "urllib3"] {
        let line = format!("opentelemetry-instrumentation-{short}==0.66b1");
        assert!(lines.contains(&line.as_str()), "{line} in {lines:?}");
    }
    assert!(!lines.iter().any(|line| line.contains("sqlalchemy")));

    // JSON: relevance on every recommendation.
    let document = site.json(&["--format", "json"]);
    let starlette = &recommendation(&document, "starlette")["relevance"];
    assert_eq!(starlette["needed"], false);
    assert_eq!(
        starlette["covered_by"]["instrumentation"],
        "opentelemetry-instrumentation-fastapi"
    );
    let requests = &recommendation(&document, "requests")["relevance"];
    assert_eq!(requests["need"], "telemetry-stack");
    assert_eq!(
        requests["libraries"][0]["required_by"],
        serde_json::json!(["opentelemetry-exporter-otlp-proto-http"])
    );
    let fastapi = &recommendation(&document, "fastapi")["relevance"];
    assert_eq!(fastapi["need"], "top-level");
    assert_eq!(fastapi["needed"], true);
    assert_eq!(
        recommendation(&document, "asyncio")["relevance"]["need"],
        "default"
    );
    let relevance: Vec<serde_json::Value> = document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["relevance"]["need"] != "default")
        .map(|entry| serde_json::json!({"name": entry["name"], "relevance": entry["relevance"]}))
        .collect();
    insta::assert_json_snapshot!("done_when_relevance", relevance);

    // The report, as data and as text.
    let explained = site.json(&["explain", "--format", "json"]);
    insta::assert_json_snapshot!("done_when", stable(&explained));
    let out = site.run(&["explain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("covered by fastapi"), "{text}");
    assert!(
        text.contains("only required by\n") || text.contains("only required by opentelemetry"),
        "{text}"
    );
    assert!(
        text.contains("opentelemetry-exporter-otlp-proto-http"),
        "{text}"
    );
    let sqlalchemy = text
        .lines()
        .find(|line| line.starts_with("sqlalchemy"))
        .unwrap_or_else(|| panic!("no sqlalchemy row: {text}"));
    assert!(sqlalchemy.contains("2.1.9"), "{sqlalchemy}");
    assert!(sqlalchemy.contains("out of range"), "{sqlalchemy}");
    insta::assert_snapshot!("done_when_text", text);
}

#[test]
fn only_needed_leaves_out_covered_and_telemetry_only() {
    let site = done_when();
    let out = site.run(&["--only-needed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("opentelemetry-instrumentation-fastapi==0.66b1"),
        "{text}"
    );
    for short in ["asgi", "requests", "starlette", "urllib3"] {
        assert!(
            !text.contains(&format!("opentelemetry-instrumentation-{short}==")),
            "{short} in {text}"
        );
    }
    // Says why with -v.
    let out = site.run(&["--only-needed", "-v"]);
    assert!(
        stderr(&out).contains(
            "left out by --only-needed: covered by opentelemetry-instrumentation-fastapi"
        ),
        "{}",
        stderr(&out)
    );
    // JSON keeps only the needed ones too.
    let document = site.json(&["--only-needed", "--format", "json"]);
    assert!(document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|entry| entry["relevance"]["needed"] == true));
    // The report leaves the rows out and installs only what is needed.
    let explained = site.json(&["explain", "--only-needed", "--format", "json"]);
    let install = explained["install"].as_str().unwrap();
    assert!(!install.contains("starlette"), "{install}");
    assert!(!install.contains("requests"), "{install}");

    // Not with -a install or --check.
    let out = site.run(&["--only-needed", "-a", "install"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("uv add -r -"), "{}", stderr(&out));
    let out = site.run(&["--only-needed", "--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The application itself (installed from a path, with `direct_url.json`) makes its
/// requirements direct needs even when OpenTelemetry packages require them too.
#[test]
fn what_the_application_requires_is_a_direct_need() {
    let site = done_when();
    site.dist("my-app", "1.0", &["requests>=2", "fastapi"]);
    let app = site.site_packages.join("my_app-1.0.dist-info");
    fs::write(
        app.join("direct_url.json"),
        r#"{"url": "file:///src/my-app", "dir_info": {"editable": true}}"#,
    )
    .unwrap();
    let document = site.json(&["--format", "json"]);
    let requests = &recommendation(&document, "requests")["relevance"];
    assert_eq!(requests["need"], "application");
    assert_eq!(requests["needed"], true);
    assert_eq!(
        recommendation(&document, "fastapi")["relevance"]["libraries"][0]["required_by"],
        serde_json::json!(["my-app"])
    );
}

/// Every status in one environment.
#[test]
fn every_status_has_a_row() {
    let site = done_when();
    site.dist("flask", "3.0.3", &[])
        .dist("opentelemetry-instrumentation-flask", "0.65b0", &[])
        .dist("redis", "5.0.8", &[])
        .dist("google-genai", "1.40.0", &[])
        .dist("botocore", "not.a.version", &[])
        .dist("opentelemetry-instrumentation-pymongo", "0.66b1", &[])
        .dist("opentelemetry-instrumentation-asyncio", "0.66b1", &[]);
    let explained = site.json(&["explain", "--exclude", "redis", "--format", "json"]);
    let kinds: std::collections::BTreeSet<String> = explained["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["status"]["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "installed",
        "recommended",
        "wrong-version",
        "covered",
        "only-required-by",
        "out-of-range",
        "invalid-version",
        "missing",
        "excluded",
        "opt-in",
        "stale",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    insta::assert_json_snapshot!("every_status", stable(&explained));
    let text = stdout(&site.run(&["explain", "--exclude", "redis"]));
    assert!(
        text.contains("To remove the stale instrumentations:"),
        "{text}"
    );
    assert!(
        text.contains("pip uninstall -y opentelemetry-instrumentation-pymongo"),
        "{text}"
    );
}

/// Piped: no escape sequences, every line within 80 columns; `COLUMNS` narrows the
/// table; `--color always` colors it.
#[test]
fn the_table_fits_the_width_and_is_clean_when_piped() {
    let site = done_when();
    let piped = stdout(&site.run(&["explain"]));
    assert!(!piped.contains('\u{1b}'), "{piped}");
    for line in piped.lines() {
        assert!(line.chars().count() <= 80, "{} > 80: {line}", line.len());
        assert_eq!(line, line.trim_end(), "trailing blanks: {line:?}");
    }
    for columns in ["60", "40"] {
        let narrow = stdout(&site.run_with(&["explain"], &[("COLUMNS", columns)]));
        let limit: usize = columns.parse().unwrap();
        let table_end = narrow.find("To install").unwrap_or(narrow.len());
        for line in narrow[..table_end].lines() {
            assert!(line.chars().count() <= limit, "{columns}: {line}");
        }
        assert!(narrow.contains("covered by fastapi"), "{narrow}");
    }
    let colored = stdout(&site.run(&["explain", "--color", "always"]));
    assert!(colored.contains("\u{1b}["), "{colored}");
    let forced_off = stdout(&site.run_with(&["explain", "--color", "auto"], &[("NO_COLOR", "1")]));
    assert!(!forced_off.contains('\u{1b}'));
}

/// A release file for a custom registry: flask, and sqlalchemy within `sqlalchemy`.
fn release_file(version: &str, sqlalchemy: &str) -> String {
    format!(
        r#"{{"schema": 1, "release": "{version}", "core": [{{"name": "opentelemetry-instrumentation", "version": "{version}"}}], "instrumentations": [
  {{"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio=={version}", "kind": "default"}},
  {{"name": "opentelemetry-instrumentation-flask", "requirement": "opentelemetry-instrumentation-flask=={version}", "kind": "library", "instruments": ["flask>=1.0"]}},
  {{"name": "opentelemetry-instrumentation-sqlalchemy", "requirement": "opentelemetry-instrumentation-sqlalchemy=={version}", "kind": "library", "instruments": ["{sqlalchemy}"]}}
]}}"#
    )
}

fn registry(dir: &Path, releases: &[(&str, &str)]) -> PathBuf {
    let registry = dir.join("registry");
    fs::create_dir_all(&registry).unwrap();
    for (version, sqlalchemy) in releases {
        fs::write(
            registry.join(format!("{version}.json")),
            release_file(version, sqlalchemy),
        )
        .unwrap();
    }
    registry
}

#[test]
fn advice_names_the_release_that_supports_an_out_of_range_library() {
    let site = Site::new();
    site.dist("SQLAlchemy", "2.1.9", &[])
        .dist("flask", "3.0.3", &[])
        .dist("opentelemetry-sdk", "1.45.1", &[])
        .dist("opentelemetry-instrumentation", "1.0b0", &[])
        .dist("opentelemetry-instrumentation-flask", "1.0b0", &[]);
    let newer = registry(
        &site.root,
        &[
            ("1.0b0", "sqlalchemy<2.1.0,>=1.0.0"),
            ("1.1b0", "sqlalchemy<2.2.0,>=1.0.0"),
            ("1.2b0", "sqlalchemy<2.1.0,>=2.0.0"),
        ],
    );
    let registry_arg = newer.to_str().unwrap();
    let explained = site.json(&["explain", "--registry", registry_arg, "--format", "json"]);
    let row = explained["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["library"] == "sqlalchemy")
        .unwrap();
    insta::assert_json_snapshot!("advice_upgrade", without_temp(&row["status"]));
    assert!(explained["outdated"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |entry| entry["name"] == "opentelemetry-instrumentation-flask"
                && entry["release"] == "1.2b0"
        ));

    // No release at all.
    let none = registry(
        &site.root.join("none"),
        &[("1.0b0", "sqlalchemy<2.1.0,>=1.0.0")],
    );
    let explained = site.json(&[
        "explain",
        "--registry",
        none.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let advice = &explained["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["library"] == "sqlalchemy")
        .unwrap()["status"]["advice"];
    assert_eq!(advice["supported_by"], serde_json::Value::Null);
    assert_eq!(
        advice["message"],
        "no release in the registry supports it yet"
    );
}

/// `--check` on an environment consistent at an older release passes, with a note naming
/// what is older than the newest complete release (information, never a failure).
#[test]
fn check_notes_outdated_instrumentations_without_failing() {
    let site = Site::new();
    site.dist("SQLAlchemy", "2.0.30", &[])
        .dist("flask", "3.0.3", &[])
        .dist("opentelemetry-sdk", "1.45.1", &[])
        .dist("opentelemetry-instrumentation", "1.1b0", &[])
        .dist("opentelemetry-instrumentation-asyncio", "1.1b0", &[])
        .dist("opentelemetry-instrumentation-flask", "1.1b0", &[])
        .dist("opentelemetry-instrumentation-sqlalchemy", "1.1b0", &[]);
    let dir = registry(
        &site.root,
        &[
            ("1.1b0", "sqlalchemy<2.1.0,>=1.0.0"),
            ("1.2b0", "sqlalchemy<2.2.0,>=1.0.0"),
        ],
    );
    let out = site.run(&["--check", "--registry", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("check passed"), "{text}");
    // A passing check is short: the verdict and one note; `-v` lists each package.
    assert!(text.lines().count() <= 3, "{text}");
    assert!(
        text.contains("installed packages are older than release 1.2b0"),
        "{text}"
    );
    let verbose = site.run(&["--check", "-v", "--registry", dir.to_str().unwrap()]);
    assert!(
        stderr(&verbose).contains(
            "note: opentelemetry-instrumentation-flask 1.1b0 is older than release 1.2b0"
        ),
        "{}",
        stderr(&verbose)
    );
    // Quiet says nothing; JSON is unchanged.
    let quiet = site.run(&["--check", "-q", "--registry", dir.to_str().unwrap()]);
    assert!(!stderr(&quiet).contains("note:"), "{}", stderr(&quiet));
}

// ---------------------------------------------------------------------------------------
// Vendor overlays (`--registry overlay.json`)
// ---------------------------------------------------------------------------------------

fn edot_overlay() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/overlays/edot.json")
}

#[test]
fn explain_overlay_edot_replaces_openai_v2() {
    let site = Site::new();
    site.dist("openai", "1.50.0", &[])
        .dist("opentelemetry-sdk", "1.45.1", &[])
        .dist("opentelemetry-instrumentation", "0.66b1", &[]);
    let overlay = edot_overlay();
    let overlay = overlay.to_str().unwrap();
    // Without the overlay, openai gets the GenAI family's genai-openai (which replaces
    // openai-v2); with it, EDOT's own instrumentation wins over both.
    let plain = stdout(&site.run(&[]));
    assert!(
        plain
            .lines()
            .any(|line| line.starts_with("opentelemetry-instrumentation-genai-openai==")),
        "{plain}"
    );
    let out = site.run(&["--registry", overlay]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = stdout(&out);
    assert!(!lines.contains("openai-v2"), "{lines}");
    assert!(!lines.contains("genai-openai"), "{lines}");
    assert!(
        lines
            .lines()
            .any(|line| line == "elastic-opentelemetry-instrumentation-openai"),
        "{lines}"
    );
    // Everything else is the bundled release, and the JSON names the overlay.
    assert_eq!(
        lines.lines().count(),
        plain.lines().count(),
        "{plain}\n---\n{lines}"
    );
    let document = site.json(&["--registry", overlay, "--format", "json"]);
    // The overlay file, and the release it was applied to.
    assert_eq!(
        document["registry"]["source"],
        format!("{overlay} (release 0.66b1)")
    );
    assert_eq!(document["registry"]["release"], "0.66b1");
    // `registry show` reads it too.
    let shown = stdout(&output(command(&site.root).args([
        "registry",
        "show",
        "0.66b1",
        "--registry",
        overlay,
    ])));
    assert!(
        shown.contains("elastic-opentelemetry-instrumentation-openai"),
        "{shown}"
    );
}

/// Writes `text` as an overlay and runs with it; returns stderr, after checking exit 2.
fn refused(site: &Site, file: &str, text: &str) -> String {
    let path = site.root.join(file);
    fs::write(&path, text).unwrap();
    let out = site.run(&["--registry", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains(file), "names the file: {message}");
    assert!(
        message.contains("hint: an overlay is a JSON document with `\"overlay\": 1`"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    message
}

#[test]
fn explain_overlay_bad_overlays_are_refused_clearly() {
    let site = Site::new();
    site.dist("opentelemetry-instrumentation", "0.66b1", &[]);
    let entry = |name: &str| {
        format!(
            r#"{{"name": "{name}", "requirement": "{name}", "kind": "library", "instruments": ["openai>=1"]}}"#
        )
    };

    let message = refused(
        &site,
        "unknown-key.json",
        r#"{"overlay": 1, "name": "x", "remove": ["opentelemetry-instrumentation-flask"], "frobnicate": true}"#,
    );
    assert!(message.contains("unknown field `frobnicate`"), "{message}");

    let message = refused(
        &site,
        "unknown-entry-key.json",
        r#"{"overlay": 1, "name": "x", "add": [{"name": "a", "requirement": "a", "kind": "library", "instrumentz": []}]}"#,
    );
    assert!(message.contains("unknown field `instrumentz`"), "{message}");

    let message = refused(
        &site,
        "absent.json",
        r#"{"overlay": 1, "name": "x", "remove": ["opentelemetry-instrumentation-nope"]}"#,
    );
    assert!(
        message.contains("`remove[0]`: `opentelemetry-instrumentation-nope` is not in release"),
        "{message}"
    );

    let message = refused(
        &site,
        "cycle.json",
        &format!(
            r#"{{"overlay": 1, "name": "x", "replace": [
                {{"name": "opentelemetry-instrumentation-flask", "with": {}}},
                {{"name": "vendor-flask", "with": {}}}]}}"#,
            entry("vendor-flask"),
            entry("opentelemetry-instrumentation-flask")
        ),
    );
    assert!(
        message.contains(
            "`replace` forms a cycle: opentelemetry-instrumentation-flask -> vendor-flask -> opentelemetry-instrumentation-flask"
        ),
        "{message}"
    );

    let message = refused(
        &site,
        "chain.json",
        &format!(
            r#"{{"overlay": 1, "name": "x", "replace": [
                {{"name": "opentelemetry-instrumentation-flask", "with": {}}},
                {{"name": "vendor-flask", "with": {}}}]}}"#,
            entry("vendor-flask"),
            entry("other-flask")
        ),
    );
    assert!(
        message.contains("which `replace[1]` takes out"),
        "{message}"
    );

    let message = refused(
        &site,
        "add-existing.json",
        &format!(
            r#"{{"overlay": 1, "name": "x", "add": [{}]}}"#,
            entry("opentelemetry-instrumentation-flask")
        ),
    );
    assert!(message.contains("is already in release"), "{message}");
    assert!(message.contains("use `replace`"), "{message}");

    let message = refused(
        &site,
        "no-release.json",
        r#"{"overlay": 1, "name": "x", "releases": ">=99", "remove": ["opentelemetry-instrumentation-flask"]}"#,
    );
    assert!(message.contains("selects no release"), "{message}");

    let message = refused(
        &site,
        "bad-requirement.json",
        r#"{"overlay": 1, "name": "x", "add": [{"name": "opentelemetry-instrumentation-a", "requirement": "opentelemetry-instrumentation-a @ https://example.com/a.whl", "kind": "library"}]}"#,
    );
    assert!(message.contains("URL"), "{message}");

    let message = refused(&site, "nothing.json", r#"{"overlay": 1, "name": "x"}"#);
    assert!(message.contains("changes nothing"), "{message}");
    let message = refused(
        &site,
        "schema.json",
        r#"{"overlay": 2, "name": "x", "remove": ["a"]}"#,
    );
    assert!(message.contains("this build reads 1"), "{message}");
}

/// grpcio pulled in by the gRPC exporter, psutil by a vendor distribution: both serve only
/// the telemetry stack, so their instrumentations are left out by `--only-needed`.
#[test]
fn exporters_and_vendor_distros_serve_only_the_telemetry_stack() {
    let site = Site::new();
    site.dist("flask", "3.0.3", &[])
        .dist(
            "opentelemetry-exporter-otlp-proto-grpc",
            "1.45.1",
            &["grpcio<2.0.0,>=1.66.2", "opentelemetry-sdk~=1.45.1"],
        )
        .dist("grpcio", "1.68.1", &[])
        .dist("splunk-opentelemetry", "2.7.0", &["psutil>=5.9"])
        .dist("psutil", "6.1.0", &[])
        .dist("opentelemetry-sdk", "1.45.1", &[])
        .dist("opentelemetry-instrumentation", "0.66b1", &[]);
    let document = site.json(&["--format", "json"]);
    let grpc = &recommendation(&document, "grpc")["relevance"];
    assert_eq!(grpc["need"], "telemetry-stack");
    assert_eq!(
        grpc["libraries"][0]["telemetry"],
        serde_json::json!(["opentelemetry-exporter-otlp-proto-grpc"])
    );
    let metrics = &recommendation(&document, "system-metrics")["relevance"];
    assert_eq!(
        metrics["libraries"][0]["telemetry"],
        serde_json::json!(["splunk-opentelemetry"])
    );
    let needed = stdout(&site.run(&["--only-needed"]));
    assert!(
        needed.contains("opentelemetry-instrumentation-flask=="),
        "{needed}"
    );
    assert!(!needed.contains("-grpc"), "{needed}");
    assert!(!needed.contains("-system-metrics"), "{needed}");
    let text = stdout(&site.run(&["explain"]));
    assert!(
        text.contains("opentelemetry-exporter-otlp-proto-grpc"),
        "{text}"
    );
    assert!(text.contains("splunk-opentelemetry"), "{text}");
}

/// Nothing but the standard library: one row, the defaults, and the install command.
#[test]
fn an_empty_environment_has_the_defaults_row() {
    let site = Site::new();
    let out = site.run(&["explain", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|line| line.starts_with("(stdlib)"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("defaults"), "{row}");
    assert!(
        text.contains("To install what is missing:\n  pip install "),
        "{text}"
    );
}
