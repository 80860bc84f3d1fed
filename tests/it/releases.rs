//! Release choice across the whole bundled range, against the real upstream tool of each
//! release: old and new releases, the partial 0.66b2, and no OpenTelemetry at all.
//!
//! Each release's upstream `opentelemetry-instrumentation` is provisioned from the package
//! index once (see `support::python::upstream`). Where upstream is right (one in-range
//! library per instrumentation), our stdout must equal upstream's line for line with no
//! `--otel-version`: the installed release must pick the matching registry.

use crate::support;

use std::collections::HashMap;
use std::path::Path;

use otel_bootstrap::requirement::{parse_version, PlainRequirement};
use support::python::{
    command, fake_dist, fake_otel_instrumentation, output, stderr, stdout_lines, upstream, venv,
    Upstream, Venv,
};
use support::wheel::{build_wheel, WheelSpec};

/// Old and new releases across the bundled range (0.41b0 is the oldest).
const RELEASES: &[&str] = &["0.41b0", "0.46b0", "0.52b1", "0.58b0", "0.63b1", "0.66b1"];

/// A version inside `specifier`: the lower bound when there is one, else a few plausible
/// candidates. (Old releases ship no `packaging` to ask.)
fn version_in_range(specifier: &str) -> Option<String> {
    let requirement = PlainRequirement::parse(&format!("library {specifier}")).ok()?;
    let mut candidates: Vec<String> = specifier
        .split(',')
        .filter_map(|clause| {
            let clause = clause.trim();
            ["~=", ">=", "=="]
                .iter()
                .find_map(|operator| clause.strip_prefix(operator))
                .map(|version| version.trim().trim_end_matches(".*").to_owned())
        })
        .collect();
    candidates.extend(["1.0", "2.0", "0.5", "3.0", "5.0"].map(str::to_owned));
    candidates.into_iter().find(|candidate| {
        parse_version(candidate).is_some_and(|version| requirement.contains(&version))
    })
}

/// Splits `flask >= 1.0` into (`flask`, `>= 1.0`).
fn split_requirement(requirement: &str) -> (String, String) {
    let end = requirement
        .find(|character: char| !(character.is_ascii_alphanumeric() || "-_.".contains(character)))
        .unwrap_or(requirement.len());
    (
        requirement[..end].to_owned(),
        requirement[end..].trim().to_owned(),
    )
}

/// One in-range library for every instrumentation that upstream ties to exactly one
/// library (instrumentations with several libraries are where upstream is wrong; the
/// differential tests cover those).
fn libraries_upstream_gets_right(upstream: &Upstream) -> Vec<(String, String)> {
    let (libraries, _) = upstream.generated();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, instrumentation) in &libraries {
        *count.entry(instrumentation.as_str()).or_default() += 1;
    }
    libraries
        .iter()
        .filter(|(_, instrumentation)| count[instrumentation.as_str()] == 1)
        .map(|(library, _)| {
            let (name, specifier) = split_requirement(library);
            let version = version_in_range(&specifier).unwrap_or_else(|| {
                panic!(
                    "no candidate version inside `{library}` ({})",
                    upstream.version
                )
            });
            (name, version)
        })
        .collect()
}

#[test]
fn the_installed_release_picks_the_registry_across_the_range() {
    for release in RELEASES {
        let Some(upstream) = upstream(release) else {
            return;
        };
        let directory = tempfile::tempdir().unwrap();
        let site_packages = directory.path().join("site-packages");
        std::fs::create_dir_all(&site_packages).unwrap();
        fake_otel_instrumentation(&site_packages, release);
        let libraries = libraries_upstream_gets_right(&upstream);
        assert!(libraries.len() > 20, "{release}: {libraries:?}");
        for (name, version) in &libraries {
            fake_dist(&site_packages, name, version);
        }

        let expected = upstream.requirements(&[&site_packages]);
        let ours = output(
            command(directory.path())
                .arg("--site-packages")
                .arg(&site_packages)
                .arg("--format")
                .arg("text"),
        );
        assert_eq!(ours.status.code(), Some(0), "{release}: {}", stderr(&ours));
        // From 0.64b0 on (the core the GenAI family requires), openai's instrumentation is
        // the family's genai-openai, which replaces upstream's openai-v2 (README, "GenAI
        // applications"), printed after the release's lines.
        let mut corrected = expected.clone();
        if *release >= "0.64b0" {
            corrected.retain(|line| line != "opentelemetry-instrumentation-openai-v2");
            corrected.push("opentelemetry-instrumentation-genai-openai==1.3b0".to_owned());
        }
        assert_eq!(
            stdout_lines(&ours),
            corrected,
            "{release}: {}",
            stderr(&ours)
        );
        assert!(
            expected
                .iter()
                .all(|line| !line.contains("==") || line.ends_with(release)),
            "{release}: {expected:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Real environments: opentelemetry-instrumentation installed from the index
// ---------------------------------------------------------------------------------------

/// Builds `flask` and `redis` wheels (in range for every release) into `directory`.
fn library_wheels(directory: &Path) {
    for (name, version) in [
        ("flask", "2.2.5"),
        ("redis", "4.6.0"),
        ("requests", "2.31.0"),
    ] {
        build_wheel(&WheelSpec::new(name, version), directory);
    }
}

fn real_venv(root: &Path, release: Option<&Upstream>) -> Option<Venv> {
    let environment = venv(&root.join("venv"))?;
    let wheels = root.join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    library_wheels(&wheels);
    let installed =
        environment.pip_install_from(&[&wheels], &["flask==2.2.5", "redis==4.6.0", "requests"]);
    assert!(installed.status.success(), "{}", stderr(&installed));
    if let Some(upstream) = release {
        upstream.install_into(&environment);
    }
    Some(environment)
}

#[test]
fn real_venvs_old_and_new_releases_match_upstream() {
    for release in ["0.41b0", "0.66b1"] {
        let Some(upstream) = upstream(release) else {
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let Some(environment) = real_venv(root.path(), Some(&upstream)) else {
            return;
        };
        let theirs = Upstream::run_in_venv(&environment, &["-a", "requirements"]);
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        let ours = output(command(root.path()).env("VIRTUAL_ENV", &environment.root));
        assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
        assert_eq!(stdout_lines(&ours), stdout_lines(&theirs), "{release}");
        for library in ["flask", "redis", "requests"] {
            let line = format!("opentelemetry-instrumentation-{library}=={release}");
            assert!(stdout_lines(&ours).contains(&line), "{release}: {line}");
        }
    }
}

#[test]
fn a_partial_release_is_aligned_to_the_newest_published_one() {
    let Some(upstream) = upstream("0.66b2") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let Some(environment) = real_venv(root.path(), Some(&upstream)) else {
        return;
    };
    // Upstream pins 0.66b2 everywhere, including packages never published at 0.66b2.
    let theirs = Upstream::run_in_venv(&environment, &["-a", "requirements"]);
    let theirs = stdout_lines(&theirs);
    assert!(
        theirs.contains(&"opentelemetry-instrumentation-flask==0.66b2".to_owned()),
        "{theirs:?}"
    );

    let ours = output(command(root.path()).env("VIRTUAL_ENV", &environment.root));
    assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
    let lines = stdout_lines(&ours);
    // The same instrumentations, each pinned to 0.66b1, where all of them were published.
    let names = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|line| line.split("==").next().unwrap_or(line).to_owned())
            .collect()
    };
    assert_eq!(names(&lines), names(&theirs));
    assert!(
        lines.iter().all(|line| line.ends_with("==0.66b1")),
        "{lines:?}"
    );
    let message = stderr(&ours);
    assert!(message.contains("release `0.66b2` is partial"), "{message}");
    assert!(message.contains("using `0.66b1`"), "{message}");
    // One line by default; `-v` names the core move.
    let verbose = output(
        command(root.path())
            .arg("-v")
            .env("VIRTUAL_ENV", &environment.root),
    );
    let message = stderr(&verbose);
    assert!(
        message.contains(
            "opentelemetry-instrumentation 0.66b2 -> opentelemetry-instrumentation==0.66b1"
        ),
        "{message}"
    );

    // Every pin we print was published: the registry says so for each line.
    let shown =
        output(command(root.path()).args(["registry", "show", "0.66b1", "--format", "json"]));
    let document: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    for line in &lines {
        let entry = document["instrumentations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["requirement"] == line.as_str())
            .unwrap_or_else(|| panic!("{line} not in 0.66b1"));
        assert_eq!(entry["published"], true, "{line}");
    }
}

#[test]
fn no_opentelemetry_installed_uses_the_newest_complete_release() {
    let root = tempfile::tempdir().unwrap();
    let Some(environment) = real_venv(root.path(), None) else {
        return;
    };
    let ours = output(
        command(root.path())
            .args(["--format", "json"])
            .env("VIRTUAL_ENV", &environment.root),
    );
    assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
    let document: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(document["registry"]["choice"]["kind"], "newest-complete");
    // 0.66b2 is partial, so the newest complete release is 0.66b1.
    assert_eq!(document["registry"]["release"], "0.66b1");
    let requirements: Vec<&str> = document["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["requirement"].as_str().unwrap())
        .collect();
    assert!(requirements.contains(&"opentelemetry-instrumentation-flask==0.66b1"));
}
