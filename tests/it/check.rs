//! `--check`: exit 1 with one line per problem (missing, wrong version, stale) and the
//! commands that fix them; exit 0 when everything is in place; JSON too.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::python::{command, fake_dists, output, stderr, stdout_lines};

/// The defaults of release 0.66b1 (the newest complete release), from `registry show`.
fn default_requirements(cwd: &Path) -> Vec<String> {
    let out = output(command(cwd).args(["registry", "show", "0.66b1", "--format", "json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    document["instrumentations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "default")
        .map(|entry| entry["requirement"].as_str().unwrap().to_owned())
        .collect()
}

fn release(cwd: &Path) -> String {
    let requirement = default_requirements(cwd).remove(0);
    requirement.split("==").nth(1).unwrap().to_owned()
}

/// `(name, version)` pairs for every default instrumentation at the bundled release.
fn defaults_installed(cwd: &Path) -> Vec<(String, String)> {
    default_requirements(cwd)
        .iter()
        .filter_map(|requirement| {
            let (name, version) = requirement.split_once("==")?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect()
}

struct Site {
    _temporary: tempfile::TempDir,
    root: std::path::PathBuf,
    site_packages: std::path::PathBuf,
}

fn site(packages: &[(&str, &str)], with_defaults: bool) -> Site {
    let temporary = tempfile::tempdir().unwrap();
    let root = temporary.path().to_path_buf();
    let site_packages = root.join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    fake_dists(&site_packages, packages);
    if with_defaults {
        for (name, version) in defaults_installed(&root) {
            fake_dists(&site_packages, &[(name.as_str(), version.as_str())]);
        }
    }
    Site {
        _temporary: temporary,
        root,
        site_packages,
    }
}

fn check(site: &Site, args: &[&str]) -> Output {
    output(
        command(&site.root)
            .arg("--site-packages")
            .arg(&site.site_packages)
            .arg("--check")
            .args(args),
    )
}

#[test]
fn passes_when_every_recommendation_is_installed() {
    let probe = tempfile::tempdir().unwrap();
    let release = release(probe.path());
    let site = site(
        &[
            ("flask", "3.0.0"),
            ("opentelemetry-instrumentation-flask", &release),
        ],
        true,
    );
    let out = check(&site, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("check passed"), "{}", stderr(&out));
}

#[test]
fn lists_missing_wrong_version_and_stale_with_fixes() {
    let probe = tempfile::tempdir().unwrap();
    let release = release(probe.path());
    let site = site(
        &[
            ("flask", "3.0.0"),
            ("opentelemetry-instrumentation-redis", &release),
            ("opentelemetry-instrumentation-asyncio", "0.40b0"),
        ],
        false,
    );
    let out = check(&site, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert!(lines.contains(&format!(
        "missing: opentelemetry-instrumentation-flask=={release} (flask 3.0.0 is installed)"
    )));
    assert!(lines.contains(&format!(
        "wrong-version: opentelemetry-instrumentation-asyncio 0.40b0 is installed, the plan wants `opentelemetry-instrumentation-asyncio=={release}`"
    )), "{lines:?}");
    assert!(lines.contains(
        &"stale: opentelemetry-instrumentation-redis is installed, but none of its libraries (redis) is".to_owned()
    ), "{lines:?}");
    // Missing first, then wrong versions, then stale ones.
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line.split(':').next().unwrap())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|kind| {
        ["missing", "wrong-version", "stale"]
            .iter()
            .position(|k| k == kind)
    });
    assert_eq!(kinds, sorted);

    let text = stderr(&out);
    assert!(text.contains("check failed"), "{text}");
    assert!(text.contains("fix: pip install "), "{text}");
    assert!(text.contains(&format!("opentelemetry-instrumentation-flask=={release}")));
    assert!(
        text.contains("fix: pip uninstall -y opentelemetry-instrumentation-redis"),
        "{text}"
    );
}

#[test]
fn excluded_instrumentations_are_ignored() {
    let probe = tempfile::tempdir().unwrap();
    let release = release(probe.path());
    let site = site(&[("opentelemetry-instrumentation-redis", &release)], true);
    assert_eq!(check(&site, &[]).status.code(), Some(1));
    let out = check(&site, &["--exclude", "redis"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn json_output_is_one_document() {
    let site = site(&[("flask", "3.0.0")], true);
    let out = check(&site, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["passed"], false);
    assert_eq!(document["subject"], "environment");
    let problems = document["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["kind"], "missing");
    assert_eq!(problems[0]["name"], "opentelemetry-instrumentation-flask");
    assert!(document["fix"][0]
        .as_str()
        .unwrap()
        .starts_with("pip install opentelemetry-instrumentation-flask=="));
}

#[test]
fn a_uv_project_gets_uv_commands() {
    let site = site(&[("flask", "3.0.0")], true);
    fs::write(
        site.root.join("pyproject.toml"),
        "[project]\nname = \"app\"\n",
    )
    .unwrap();
    fs::write(site.root.join("uv.lock"), "version = 1\n").unwrap();
    let nested = site.root.join("src/app");
    fs::create_dir_all(&nested).unwrap();
    let out = output(
        command(&nested)
            .arg("--site-packages")
            .arg(&site.site_packages)
            .arg("--check"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("fix: uv add opentelemetry-instrumentation-flask=="),
        "{}",
        stderr(&out)
    );
}

#[test]
fn checks_a_lockfile() {
    let probe = tempfile::tempdir().unwrap();
    let release = release(probe.path());
    let mut lines = vec!["flask==3.0.0".to_owned()];
    for (name, version) in defaults_installed(probe.path()) {
        lines.push(format!("{name}=={version}"));
    }
    let requirements = probe.path().join("requirements.txt");
    fs::write(&requirements, lines.join("\n") + "\n").unwrap();
    let run = || {
        output(command(probe.path()).args([
            "--from",
            "requirements.txt",
            "--python-version",
            "3.12",
            "--platform",
            "linux",
            "--check",
        ]))
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout_lines(&out),
        [format!(
            "missing: opentelemetry-instrumentation-flask=={release} (flask 3.0.0 is locked)"
        )]
    );
    lines.push(format!("opentelemetry-instrumentation-flask=={release}"));
    fs::write(&requirements, lines.join("\n") + "\n").unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The load check's result is remembered while the environment is unchanged (`-v` says
/// so), and forgotten as soon as a distribution or module is added: the fix shows at once.
#[test]
fn the_load_check_is_remembered_until_the_environment_changes() {
    let temp = tempfile::tempdir().unwrap();
    let Some(venv) = support::python::venv(&temp.path().join("venv")) else {
        return;
    };
    support::python::fake_otel_instrumentation(&venv.site_packages, "0.66b1");
    let broken = support::python::fake_dist(
        &venv.site_packages,
        "opentelemetry-instrumentation-broken",
        "1.0",
    );
    fs::write(
        broken.join("entry_points.txt"),
        "[opentelemetry_instrumentor]\nbroken = broken_module:Instrumentor\n",
    )
    .unwrap();
    // Settled: a directory changed within the last two seconds is never trusted.
    let settle = |directory: &Path| {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        fs::File::open(directory)
            .unwrap()
            .set_modified(past)
            .unwrap();
    };
    settle(&venv.site_packages);
    let home = tempfile::tempdir().unwrap();
    let check = |extra: &[&str]| {
        let mut cmd = command(temp.path());
        cmd.env("HOME", home.path())
            .args(["--check", "--format", "json", "--python"])
            .arg(&venv.python)
            .args(extra);
        output(&mut cmd)
    };
    let does_not_load = |out: &Output| -> usize {
        let document: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}", stderr(out)));
        document["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|problem| problem["kind"] == "does-not-load")
            .count()
    };

    let first = check(&[]);
    assert_eq!(does_not_load(&first), 1, "{}", stderr(&first));
    assert!(!stderr(&first).contains("remembered"), "{}", stderr(&first));
    let second = check(&["-v"]);
    assert_eq!(does_not_load(&second), 1, "{}", stderr(&second));
    assert!(
        stderr(&second).contains("load check: 0 instrumentors loaded, 1 did not (remembered"),
        "{}",
        stderr(&second)
    );

    // The fix: the missing module is installed. The next check sees it at once.
    fs::write(
        venv.site_packages.join("broken_module.py"),
        "class Instrumentor:\n    pass\n",
    )
    .unwrap();
    let fixed = check(&["-v"]);
    assert_eq!(does_not_load(&fixed), 0, "{}", stderr(&fixed));
    assert!(!stderr(&fixed).contains("remembered"), "{}", stderr(&fixed));

    // `OTEL_BOOTSTRAP_NO_CACHE` turns it off.
    settle(&venv.site_packages);
    let _ = check(&[]);
    let uncached = output(
        command(temp.path())
            .env("HOME", home.path())
            .env("OTEL_BOOTSTRAP_NO_CACHE", "1")
            .args(["--check", "-v", "--python"])
            .arg(&venv.python),
    );
    assert!(
        !stderr(&uncached).contains("remembered"),
        "{}",
        stderr(&uncached)
    );
}
