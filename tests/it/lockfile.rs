//! `--from FILE`: requirements files, uv.lock, pylock.toml and poetry.lock, hand-written
//! for every edge case and produced by real uv from a loopback index.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::index::IndexServer;
use support::python::{self, command, output, stderr, stdout_lines};
use support::wheel::{build_wheel, WheelSpec};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles")
}

/// Our binary with `args` in `cwd`, markers pinned to CPython 3.12 on `platform`.
fn from(cwd: &Path, platform: &str, args: &[&str]) -> Output {
    output(
        command(cwd)
            .args(["--python-version", "3.12", "--platform", platform])
            .args(args),
    )
}

#[track_caller]
fn succeeded(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        stderr(out)
    );
    stdout_lines(out)
}

/// The requirements printed for a site-packages directory holding `packages`.
fn from_site_packages(packages: &[(&str, &str)]) -> Vec<String> {
    let temporary = tempfile::tempdir().unwrap();
    let site_packages = temporary.path().join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    python::fake_dists(&site_packages, packages);
    let out = output(
        command(temporary.path())
            .arg("--site-packages")
            .arg(&site_packages),
    );
    succeeded(&out)
}

/// Exit 2, no panic, and stderr holding every one of `needles`.
#[track_caller]
fn fails_with(out: &Output, needles: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
}

#[test]
fn requirements_files_with_includes_constraints_hashes_and_markers() {
    let directory = fixtures().join("requirements");
    let linux = from(&directory, "linux", &["--from", "requirements.txt"]);
    let lines = succeeded(&linux);
    // jinja2 and psycopg2-binary from `-r base.txt`, sqlalchemy pinned by the constraint,
    // celery (a constraint only) not installed, redis (a range) skipped, pymssql Windows-only.
    let expected = from_site_packages(&[
        ("blinker", "1.7.0"),
        ("flask", "3.0.0"),
        ("jinja2", "3.1.3"),
        ("psycopg2-binary", "2.9.9"),
        ("sqlalchemy", "2.0.30"),
    ]);
    assert_eq!(lines, expected);
    let text = stderr(&linux);
    assert!(
        text.contains("requirements.txt:15: `redis>=5.0`: `>=5.0` is not pinned"),
        "{text}"
    );
    assert!(!text.contains("sqlalchemy"), "{text}");

    let windows = from(&directory, "windows", &["--from", "requirements.txt"]);
    assert!(succeeded(&windows)
        .iter()
        .any(|line| line.starts_with("opentelemetry-instrumentation-pymssql==")));
}

#[test]
fn json_reasons_name_the_lockfile_entries() {
    let directory = fixtures().join("requirements");
    let out = from(
        &directory,
        "linux",
        &["--from", "requirements.txt", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let flask = document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == "opentelemetry-instrumentation-flask")
        .unwrap();
    assert_eq!(
        flask["reason"]["satisfied_by"][0]["location"],
        "requirements.txt:11"
    );
    let psycopg = document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == "opentelemetry-instrumentation-psycopg2")
        .unwrap();
    assert_eq!(
        psycopg["reason"]["satisfied_by"][0]["location"],
        "base.txt:3"
    );
    assert_eq!(document["sources"]["target"]["kind"], "flags");
    assert_eq!(document["sources"]["markers"]["sys_platform"], "linux");
    assert_eq!(document["sources"]["files"][0]["format"], "requirements");
    assert!(document["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|warning| warning["message"].as_str().unwrap().contains("redis>=5.0")));
}

#[test]
fn include_cycles_and_missing_includes_are_errors_naming_the_line() {
    let cycle = from(&fixtures().join("cycle"), "linux", &["--from", "a.txt"]);
    fails_with(&cycle, &["b.txt` line 2", "makes a cycle", "a.txt"]);
    let missing = from(&fixtures(), "linux", &["--from", "missing-include.txt"]);
    fails_with(
        &missing,
        &["missing-include.txt` line 3", "does-not-exist.txt"],
    );
    let absent = from(&fixtures(), "linux", &["--from", "nope.txt"]);
    fails_with(&absent, &["cannot read `nope.txt`"]);
}

#[test]
fn undecodable_bytes_are_an_error_naming_the_line() {
    let temporary = tempfile::tempdir().unwrap();
    fs::write(
        temporary.path().join("requirements.txt"),
        b"flask==3.0.0\nredis==5.0.0 # caf\xe9\n",
    )
    .unwrap();
    let out = from(temporary.path(), "linux", &["--from", "requirements.txt"]);
    fails_with(&out, &["requirements.txt` line 2", "not UTF-8"]);
}

#[test]
fn malformed_files_are_errors_naming_file_and_line() {
    let directory = fixtures().join("malformed");
    for (file, needles) in [
        ("uv.lock", ["uv.lock` line 5", "invalid type"]),
        ("pylock.toml", ["pylock.toml` line 6", "marker"]),
        ("poetry.lock", ["poetry.lock` line 5", "line 5"]),
        (
            "requirements.txt",
            ["requirements.txt` line 3", "valid project name"],
        ),
    ] {
        let out = from(&directory, "linux", &["--from", file]);
        fails_with(&out, &needles);
    }
}

#[test]
fn uv_lock_groups_follow_uv_sync() {
    let directory = fixtures().join("uv-groups");
    let has = |lines: &[String], name: &str| {
        lines
            .iter()
            .any(|line| line.starts_with(&format!("opentelemetry-instrumentation-{name}==")))
    };
    let default = succeeded(&from(&directory, "linux", &["--from", "uv.lock"]));
    assert!(has(&default, "flask") && has(&default, "jinja2") && has(&default, "redis"));
    assert!(!has(&default, "celery") && !has(&default, "pymssql"));
    assert_eq!(
        default,
        from_site_packages(&[("flask", "3.0.0"), ("jinja2", "3.1.3"), ("redis", "5.0.0")])
    );

    let no_dev = succeeded(&from(
        &directory,
        "linux",
        &["--from", "uv.lock", "--no-dev"],
    ));
    assert!(has(&no_dev, "flask") && !has(&no_dev, "redis"));
    let worker = succeeded(&from(
        &directory,
        "windows",
        &["--from", "uv.lock", "--group", "worker"],
    ));
    assert!(has(&worker, "celery") && has(&worker, "redis") && has(&worker, "pymssql"));
    let unknown = from(
        &directory,
        "linux",
        &["--from", "uv.lock", "--group", "docs"],
    );
    fails_with(&unknown, &["group `docs` is not defined"]);
}

#[test]
fn pylock_and_poetry_lock() {
    let has = |lines: &[String], name: &str| {
        lines
            .iter()
            .any(|line| line.starts_with(&format!("opentelemetry-instrumentation-{name}==")))
    };
    let pylock = succeeded(&from(
        &fixtures().join("pylock"),
        "linux",
        &["--from", "pylock.toml"],
    ));
    assert_eq!(
        pylock,
        from_site_packages(&[("flask", "3.0.0"), ("redis", "5.0.0")])
    );
    let pylock_windows = succeeded(&from(
        &fixtures().join("pylock"),
        "windows",
        &["--from", "pylock.toml", "--no-dev"],
    ));
    assert!(has(&pylock_windows, "pymssql") && !has(&pylock_windows, "redis"));

    let poetry = succeeded(&from(
        &fixtures().join("poetry"),
        "linux",
        &["--from", "poetry.lock"],
    ));
    assert_eq!(
        poetry,
        from_site_packages(&[("flask", "3.0.0"), ("redis", "5.0.0")])
    );
    let poetry_no_dev = succeeded(&from(
        &fixtures().join("poetry"),
        "windows",
        &["--from", "poetry.lock", "--no-dev"],
    ));
    assert!(has(&poetry_no_dev, "pymssql") && !has(&poetry_no_dev, "redis"));
    assert!(
        !has(&poetry_no_dev, "psycopg2"),
        "optional packages do not count"
    );
}

#[test]
fn several_files_and_content_detection() {
    let temporary = tempfile::tempdir().unwrap();
    fs::copy(
        fixtures().join("pylock/pylock.toml"),
        temporary.path().join("locked"),
    )
    .unwrap();
    fs::write(temporary.path().join("extra"), "sqlalchemy==2.0.30\n").unwrap();
    let lines = succeeded(&from(
        temporary.path(),
        "linux",
        &["--from", "locked", "--from", "extra"],
    ));
    assert_eq!(
        lines,
        from_site_packages(&[
            ("flask", "3.0.0"),
            ("redis", "5.0.0"),
            ("sqlalchemy", "2.0.30")
        ])
    );
}

#[test]
fn without_an_interpreter_every_marker_counts_and_a_note_says_so() {
    let directory = fixtures().join("requirements");
    let empty_path = tempfile::tempdir().unwrap();
    let out = output(
        command(&directory)
            .env("PATH", empty_path.path())
            .args(["--from", "requirements.txt"]),
    );
    let lines = succeeded(&out);
    assert!(lines
        .iter()
        .any(|line| line.starts_with("opentelemetry-instrumentation-pymssql==")));
    assert!(
        stderr(&out).contains("every environment marker counts as true"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_release_comes_from_the_pinned_opentelemetry_instrumentation() {
    let temporary = tempfile::tempdir().unwrap();
    let registry = temporary.path().join("registry");
    fs::create_dir_all(&registry).unwrap();
    for release in ["1.0b0", "1.1b0"] {
        fs::write(
            registry.join(format!("{release}.json")),
            release_json(release),
        )
        .unwrap();
    }
    fs::write(
        temporary.path().join("requirements.txt"),
        "opentelemetry-instrumentation==1.0b0\nflask==3.0.0\n",
    )
    .unwrap();
    let registry_arg = registry.to_string_lossy().into_owned();
    let pinned = succeeded(&from(
        temporary.path(),
        "linux",
        &["--from", "requirements.txt", "--registry", &registry_arg],
    ));
    assert_eq!(
        pinned,
        [
            "opentelemetry-instrumentation-asyncio==1.0b0",
            "opentelemetry-instrumentation-flask==1.0b0"
        ]
    );
    fs::write(temporary.path().join("requirements.txt"), "flask==3.0.0\n").unwrap();
    let newest = succeeded(&from(
        temporary.path(),
        "linux",
        &["--from", "requirements.txt", "--registry", &registry_arg],
    ));
    assert_eq!(
        newest,
        [
            "opentelemetry-instrumentation-asyncio==1.1b0",
            "opentelemetry-instrumentation-flask==1.1b0"
        ]
    );
}

fn release_json(release: &str) -> String {
    let entry = |name: &str, kind: &str, instruments: &str| {
        format!(
            r#"{{"name": "opentelemetry-instrumentation-{name}", "requirement": "opentelemetry-instrumentation-{name}=={release}", "kind": "{kind}", "published": true, "instruments": [{instruments}], "instruments_any": []}}"#
        )
    };
    format!(
        r#"{{"schema": 1, "release": "{release}", "core": [{{"name": "opentelemetry-instrumentation", "version": "{release}", "published": true}}], "instrumentations": [{}, {}]}}"#,
        entry("asyncio", "default", ""),
        entry("flask", "library", r#""flask>=1.0""#)
    )
}

// ---------------------------------------------------------------------------------------
// Real lock files from real uv, offline: wheels built here, served on 127.0.0.1.
// ---------------------------------------------------------------------------------------

/// A uv project in a temporary directory, locked against a loopback index holding flask
/// (and its dependency jinja2), sqlalchemy, redis (dev group) and a Windows-only pymssql.
struct UvProject {
    _temporary: tempfile::TempDir,
    root: PathBuf,
    _index: IndexServer,
    index_url: String,
}

impl UvProject {
    fn create() -> Option<UvProject> {
        python::uv()?;
        python::python3()?;
        let temporary = tempfile::tempdir().unwrap();
        let wheels = temporary.path().join("wheels");
        fs::create_dir_all(&wheels).unwrap();
        for spec in [
            WheelSpec::new("flask", "3.0.0").requires("jinja2>=3.1.2"),
            WheelSpec::new("jinja2", "3.1.3"),
            WheelSpec::new("sqlalchemy", "2.0.30"),
            WheelSpec::new("redis", "5.0.0"),
            WheelSpec::new("pymssql", "2.3.0"),
        ] {
            build_wheel(&spec, &wheels);
        }
        let index = IndexServer::start(&wheels);
        let index_url = index.url();
        let root = temporary.path().join("app");
        let project = UvProject {
            root: root.clone(),
            _temporary: temporary,
            _index: index,
            index_url,
        };
        project.uv(
            temporary_parent(&root),
            &["init", "--no-workspace", "--bare", "--name", "app", "app"],
        );
        project.uv(
            &root,
            &[
                "add",
                "flask==3.0.0",
                "sqlalchemy==2.0.30",
                "pymssql==2.3.0; sys_platform == 'win32'",
            ],
        );
        project.uv(&root, &["add", "--dev", "redis==5.0.0"]);
        Some(project)
    }

    /// Runs uv in `cwd`, offline but for the loopback index.
    #[track_caller]
    fn uv(&self, cwd: &Path, args: &[&str]) -> Output {
        let cache = self.root.parent().unwrap().join("uv-cache");
        python::run_ok(
            python::uv_command()
                .current_dir(cwd)
                .env_remove("UV_NO_CACHE")
                .env("UV_CACHE_DIR", cache)
                .env("UV_PYTHON", "python3")
                .env("UV_INDEX_URL", &self.index_url)
                .env("UV_DEFAULT_INDEX", &self.index_url)
                .env("UV_PYTHON_DOWNLOADS", "never")
                .env("UV_NO_CONFIG", "1")
                .args(args),
        )
    }
}

fn temporary_parent(root: &Path) -> &Path {
    root.parent().unwrap()
}

fn has(lines: &[String], name: &str) -> bool {
    lines
        .iter()
        .any(|line| line.starts_with(&format!("opentelemetry-instrumentation-{name}==")))
}

#[test]
fn a_real_uv_lock_recommends_what_scanning_the_synced_venv_does() {
    let Some(project) = UvProject::create() else {
        return;
    };
    let lock = fs::read_to_string(project.root.join("uv.lock")).unwrap();
    assert!(lock.contains("name = \"flask\""), "{lock}");

    let from_lock = succeeded(&from(&project.root, "linux", &["--from", "uv.lock"]));
    assert!(has(&from_lock, "flask") && has(&from_lock, "jinja2"));
    assert!(has(&from_lock, "sqlalchemy") && has(&from_lock, "redis"));
    assert!(!has(&from_lock, "pymssql"));

    project.uv(&project.root, &["sync", "--frozen"]);
    let scanned = succeeded(&output(&mut command(&project.root)));
    assert_eq!(from_lock, scanned, "--from uv.lock vs the synced .venv");

    // With the .venv there, its interpreter gives the markers (no flags needed).
    let discovered = succeeded(&output(command(&project.root).args(["--from", "uv.lock"])));
    assert_eq!(discovered, scanned);

    // --no-dev, as `uv sync --no-dev` would install.
    let no_dev = succeeded(&from(
        &project.root,
        "linux",
        &["--from", "uv.lock", "--no-dev"],
    ));
    assert!(!has(&no_dev, "redis") && has(&no_dev, "flask"));
    project.uv(&project.root, &["sync", "--frozen", "--no-dev"]);
    assert_eq!(no_dev, succeeded(&output(&mut command(&project.root))));

    let windows = succeeded(&from(&project.root, "windows", &["--from", "uv.lock"]));
    assert!(has(&windows, "pymssql"));
}

#[test]
fn real_exports_from_uv_give_the_same_recommendations() {
    let Some(project) = UvProject::create() else {
        return;
    };
    let from_lock = succeeded(&from(&project.root, "linux", &["--from", "uv.lock"]));
    // `uv export` writes a requirements file with hashes and markers.
    project.uv(
        &project.root,
        &[
            "export",
            "--frozen",
            "--format",
            "requirements-txt",
            "-o",
            "requirements.txt",
        ],
    );
    let exported = succeeded(&from(
        &project.root,
        "linux",
        &["--from", "requirements.txt"],
    ));
    assert_eq!(exported, from_lock);

    // `uv pip compile` from the project's requirements.
    project.uv(
        &project.root,
        &[
            "pip",
            "compile",
            "pyproject.toml",
            "--generate-hashes",
            "--universal",
            "-o",
            "compiled.txt",
        ],
    );
    let compiled = succeeded(&from(&project.root, "windows", &["--from", "compiled.txt"]));
    assert!(has(&compiled, "flask") && has(&compiled, "pymssql") && !has(&compiled, "redis"));

    // `uv export --format pylock.toml`, when this uv can write one.
    let pylock = output(
        python::uv_command()
            .current_dir(&project.root)
            .args([
                "export",
                "--frozen",
                "--format",
                "pylock.toml",
                "-o",
                "pylock.toml",
            ])
            .env("UV_NO_CONFIG", "1")
            .env("UV_OFFLINE", "1"),
    );
    if pylock.status.success() {
        let from_pylock = succeeded(&from(&project.root, "linux", &["--from", "pylock.toml"]));
        assert_eq!(from_pylock, from_lock);
    } else {
        eprintln!("uv cannot export pylock.toml: {}", stderr(&pylock));
    }
}

#[test]
fn check_against_a_real_uv_lock_suggests_uv_add() {
    let Some(project) = UvProject::create() else {
        return;
    };
    let out = from(&project.root, "linux", &["--from", "uv.lock", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert!(
        lines.iter().any(
            |line| line.starts_with("missing: opentelemetry-instrumentation-flask==")
                && line.contains("flask 3.0.0 is locked")
        ),
        "{lines:?}"
    );
    assert!(stderr(&out).contains("fix: uv add "), "{}", stderr(&out));
}
