//! The GenAI family end to end, on the GenAI entry of the loopback mirror of real wheels
//! (`support::mirror_genai`): an LLM application (openai 3.x, anthropic, langchain) gets one
//! instrumentation per library that loads, `pip check` passes and a chat completion
//! against a fake OpenAI-compatible server emits a span with `gen_ai.*` attributes; an
//! environment holding `opentelemetry-instrumentation-openai-v2` 2.4b0 (which does not load
//! with today's packages) fails `--check`, naming it with a fix.

use crate::support;

use support::mirror::{installed, Stack};
use support::mirror_genai::{genai_stack, run_chat};
use support::python::{self, Venv};

/// Exit code, stdout and stderr, with the scratch directory and timings made stable.
fn transcript(stack: &Stack, venv: &Venv, output: &std::process::Output) -> String {
    let scrub = |text: String| {
        let mut text = text.replace(&venv.root.display().to_string(), "<venv>");
        text = text.replace(&stack.path("").display().to_string(), "<scratch>/");
        regex_lite_seconds(&text)
    };
    format!(
        "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        output.status.code(),
        scrub(python::stdout(output)),
        scrub(python::stderr(output))
    )
}

/// `in 1.23s` → `in <t>s` (no regex crate among the dev-dependencies).
fn regex_lite_seconds(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match line.find(" in ").zip(line.find("s:").or(line.find("s\n"))) {
            Some((start, end)) if end > start && line[start + 4..end].parse::<f64>().is_ok() => {
                out.push_str(&line[..start + 4]);
                out.push_str("<t>");
                out.push_str(&line[end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn the_application(stack: &Stack, name: &str, extra: &[&str]) -> Venv {
    let mut requirements = vec![
        "openai",
        "anthropic",
        "langchain",
        "opentelemetry-distro",
        "opentelemetry-exporter-otlp",
    ];
    requirements.extend_from_slice(extra);
    stack.pip_venv(name, &requirements)
}

#[test]
fn an_llm_application_gets_one_instrumentation_per_library_that_loads_and_emits_genai_spans() {
    let Some(stack) = genai_stack() else { return };
    let venv = the_application(&stack, "app", &[]);

    let install = stack.install_into(&venv, false, &[]);
    assert_eq!(
        install.status.code(),
        Some(0),
        "{}",
        transcript(&stack, &venv, &install)
    );
    let packages = installed(&venv);
    for (name, version) in [
        ("opentelemetry-instrumentation-genai-openai", "1.3b0"),
        ("opentelemetry-instrumentation-genai-anthropic", "1.3b0"),
        ("opentelemetry-instrumentation-genai-langchain", "1.3b0"),
    ] {
        assert_eq!(
            packages.get(name).map(String::as_str),
            Some(version),
            "{packages:?}"
        );
    }
    // One instrumentation per library: not the contrib openai-v2 as well.
    assert!(
        !packages.contains_key("opentelemetry-instrumentation-openai-v2"),
        "{packages:?}"
    );
    stack.pip_check(&venv).assert_ok();

    // Every instrumentor loads: --check runs the load check and passes.
    let check = stack.check_venv(&venv, &[]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        transcript(&stack, &venv, &check)
    );

    let chat = run_chat(&stack, &venv);
    assert!(
        chat.status.success() && chat.stdout.contains("answer: pong"),
        "{}\n{}",
        chat.stdout,
        chat.stderr
    );
    let spans = chat.genai_spans();
    assert!(
        !spans.is_empty(),
        "no span with gen_ai.* attributes\n--- stdout ---\n{}\n--- stderr ---\n{}",
        chat.stdout,
        chat.stderr
    );
    assert_eq!(
        spans[0]["attributes"]["gen_ai.request.model"], "fake-model",
        "{:#}",
        spans[0]
    );
}

#[test]
fn the_broken_openai_v2_fails_the_check_naming_it_with_a_fix() {
    let Some(stack) = genai_stack() else { return };
    let venv = the_application(
        &stack,
        "broken",
        &["opentelemetry-instrumentation-openai-v2==2.4b0"],
    );

    let check = stack.check_venv(&venv, &[]);
    insta::assert_snapshot!("broken_openai_v2_check", transcript(&stack, &venv, &check));

    let json = stack.check_venv(&venv, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let problems = document["problems"].as_array().unwrap();
    let does_not_load: Vec<&serde_json::Value> = problems
        .iter()
        .filter(|problem| problem["kind"] == "does-not-load")
        .collect();
    assert_eq!(does_not_load.len(), 1, "{document:#}");
    assert_eq!(
        does_not_load[0]["name"],
        "opentelemetry-instrumentation-openai-v2"
    );
    assert!(
        document["fix"].as_array().unwrap().iter().any(|fix| fix
            .as_str()
            .unwrap()
            .contains("uninstall")
            && fix.as_str().unwrap().contains("openai-v2")),
        "{document:#}"
    );

    // Without the load check, the problem is gone (the rest of the check stays).
    let unchecked = stack.check_venv(&venv, &["--no-load-check"]);
    assert!(!python::stdout(&unchecked).contains("does-not-load"));
}

#[test]
fn install_exits_1_when_a_package_it_installed_does_not_load() {
    let Some(stack) = genai_stack() else { return };
    let venv = the_application(&stack, "included", &[]);
    // `--include openai-v2` makes the contrib instrumentation win over genai-openai.
    let install = stack.install_into(&venv, false, &["--include", "openai-v2"]);
    let text = transcript(&stack, &venv, &install);
    assert_eq!(install.status.code(), Some(1), "{text}");
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("error:") || line.starts_with("hint:"))
        .collect();
    insta::assert_snapshot!("install_openai_v2_does_not_load", errors.join("\n"));
}

/// `explain` shows the GenAI rows like the others: library, version, instrumentation,
/// status and (JSON) why; the contrib openai-v2 is a `replaced` row.
#[test]
fn explain_shows_the_genai_rows() {
    let directory = tempfile::tempdir().unwrap();
    let site_packages = directory.path().join("site-packages");
    std::fs::create_dir_all(&site_packages).unwrap();
    python::fake_otel_instrumentation(&site_packages, "0.66b1");
    python::fake_dists(
        &site_packages,
        &[
            ("openai", "3.63.0"),
            ("anthropic", "2.17.0"),
            ("opentelemetry-api", "1.45.1"),
            ("opentelemetry-sdk", "1.45.1"),
        ],
    );
    let run = |format: &str| {
        python::output(
            python::command(directory.path())
                .env("COLUMNS", "200")
                .args(["explain", "--format", format, "--site-packages"])
                .arg(&site_packages),
        )
    };
    let json = run("json");
    assert_eq!(json.status.code(), Some(0), "{}", python::stderr(&json));
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows: Vec<serde_json::Value> = document["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| {
            let library = row["library"].as_str().unwrap_or_default();
            library == "openai" || library == "anthropic"
        })
        .map(|row| {
            serde_json::json!({
                "library": row["library"],
                "version": row["version"],
                "instrumentation": row["instrumentation"],
                "requirement": row["requirement"],
                "status": row["status"],
                "why": row["why"],
            })
        })
        .collect();
    insta::assert_json_snapshot!("explain_genai_rows", rows);
    let text = python::stdout(&run("text"));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("openai") || line.contains("anthropic"))
        .collect();
    insta::assert_snapshot!("explain_genai_table", lines.join("\n"));
}

/// GenAI learning on `-a install` (issue #19): an environment holding
/// `opentelemetry-instrumentation-genai-openai` 1.4b0, a version the bundled data does not
/// know (built here, served beside the mirror's real wheels). Requirements mode and
/// `--offline` never ask the index; `-a install` learns the family from it, caches it in
/// the user registry, says so, and the next run uses it without the network.
#[test]
fn install_learns_the_genai_family_when_an_installed_version_is_unknown() {
    use support::wheel::{build_wheel, WheelSpec};
    let Some(mirror) = genai_stack().map(|stack| stack.mirror.clone()) else {
        return;
    };
    let served = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&mirror).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), served.path().join(entry.file_name())).unwrap();
    }
    let openai = "opentelemetry-instrumentation-genai-openai";
    build_wheel(
        &WheelSpec::new(openai, "1.4b0")
            .requires("opentelemetry-api~=1.43")
            .requires("opentelemetry-instrumentation<1,>=0.64b0")
            .requires("opentelemetry-util-genai<2,>=1.3b0")
            .requires("openai>=1.26.0; extra == \"instruments\""),
        served.path(),
    );
    let stack = Stack::serving(served.path().to_path_buf());
    let venv = stack.pip_venv(
        "app",
        &[
            "openai",
            "opentelemetry-distro",
            "opentelemetry-exporter-otlp",
            &format!("{openai}==1.4b0"),
        ],
    );
    let user_registry = stack.path("user-registry");
    let learned = user_registry.join("genai").join("packages.json");
    let ours = |args: &[&str]| {
        let mut command = stack.ours(stack.dir.path(), &support::mirror::path_without_uv());
        command
            .env("OTEL_BOOTSTRAP_REGISTRY_DIR", &user_registry)
            .args(args)
            .arg("--python")
            .arg(&venv.root);
        python::output(&mut command)
    };
    stack.index.clear_requests();

    // No permission to refresh: nothing is fetched, nothing written, the bundled data's
    // newest version is recommended.
    let requirements = ours(&[]);
    assert_eq!(
        requirements.status.code(),
        Some(0),
        "{}",
        transcript(&stack, &venv, &requirements)
    );
    assert!(
        python::stdout(&requirements).contains(&format!("{openai}==1.3b0")),
        "{}",
        transcript(&stack, &venv, &requirements)
    );
    let offline = ours(&["-a", "install", "--dry-run", "--offline"]);
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        transcript(&stack, &venv, &offline)
    );
    assert_eq!(stack.index.requests(), Vec::<String>::new());
    assert!(!learned.exists());

    // An index that refuses: a warning naming it, the bundled data, nothing written.
    let broken = support::index::IndexServer::start_with(
        served.path(),
        support::index::Faults {
            status_for_path: vec![(format!("/simple/{openai}/"), 403)],
            ..support::index::Faults::default()
        },
    );
    let refused = ours(&["-a", "install", "--dry-run", "--index-url", &broken.url()]);
    let text = transcript(&stack, &venv, &refused);
    assert_eq!(refused.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning: could not learn the GenAI family from http://127.0.0.1:")
            && text.contains("403")
            && text.contains("using the bundled GenAI data"),
        "{text}"
    );
    assert!(!learned.exists());
    drop(broken);

    // `-a install`: learned from the index it installs from, cached, said in one line.
    let install = ours(&["-a", "install", "--dry-run"]);
    let text = transcript(&stack, &venv, &install);
    assert_eq!(install.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "warning: the GenAI data does not know `{openai}` 1.4b0: learned the GenAI family from http://127.0.0.1:"
        )),
        "{text}"
    );
    assert!(
        stack
            .index
            .requests()
            .iter()
            .any(|request| request.contains(&format!("/simple/{openai}/"))),
        "{:?}",
        stack.index.requests()
    );
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&learned).expect("cached")).unwrap();
    let versions = |name: &str| -> Vec<String> {
        document["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|package| package["name"] == name)
            .map(|package| {
                package["versions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|version| version["version"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(versions(openai)[0], "1.4b0", "{document:#}");
    // A family package this index does not carry keeps what the bundled data knows.
    assert!(
        versions("opentelemetry-instrumentation-genai-bedrock").contains(&"1.3b0".to_owned()),
        "{document:#}"
    );

    // The next run reads the user registry: 1.4b0, and no network.
    stack.index.clear_requests();
    let again = ours(&[]);
    assert!(
        python::stdout(&again).contains(&format!("{openai}==1.4b0")),
        "{}",
        transcript(&stack, &venv, &again)
    );
    assert_eq!(stack.index.requests(), Vec::<String>::new());
}
