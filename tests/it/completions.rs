//! The terminal-facing extras of the built binary: `completions <shell>` for every shell
//! (bash's script is syntax-checked with `bash -n`, and zsh's / fish's with their own
//! checkers when those shells are installed), `man`, `--color` and `NO_COLOR`, and the
//! `--help` examples.

use crate::support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::python::{command, output, require, stderr, stdout};

const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell", "elvish"];

/// What each shell's script must contain besides the flags: its registration line.
fn registration(shell: &str) -> &'static str {
    match shell {
        "bash" => "complete -F _otel__bootstrap",
        "zsh" => "#compdef otel-bootstrap",
        "fish" => "complete -c otel-bootstrap",
        "powershell" => "Register-ArgumentCompleter",
        "elvish" => "set edit:completion:arg-completer[otel-bootstrap]",
        other => panic!("no expectation for {other}"),
    }
}

fn run(dir: &Path, args: &[&str]) -> Output {
    output(command(dir).args(args))
}

fn shell_available(name: &str) -> bool {
    Command::new(name)
        .arg("-c")
        .arg("exit 0")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn completions_generate_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in SHELLS {
        let out = run(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(registration(shell)), "{shell}:\n{script}");
        // Flags of the main job, of a subcommand, and the subcommands themselves.
        for word in [
            "--site-packages",
            "--otel-version",
            "--color",
            "registry",
            "completions",
        ] {
            let word = if *shell == "fish" {
                word.trim_start_matches('-') // fish: `-l site-packages`
            } else {
                word
            };
            assert!(script.contains(word), "{shell}: `{word}` missing");
        }
        // The shells' own syntax checkers, where installed.
        let checker = match *shell {
            "bash" => Some(("bash", "-n")),
            "zsh" => Some(("zsh", "-n")),
            "fish" => Some(("fish", "--no-execute")),
            _ => None,
        };
        let Some((program, flag)) = checker else {
            continue;
        };
        // bash is everywhere the tests run; the other shells are checked when present.
        let present = shell_available(program);
        if program == "bash" && !require(present, "bash is needed to syntax-check completions") {
            continue;
        }
        if !present {
            continue;
        }
        let file = dir.path().join(format!("completion.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let check = output(Command::new(program).arg(flag).arg(&file));
        assert!(
            check.status.success(),
            "`{program} {flag}` rejects the {shell} script: {}",
            stderr(&check)
        );
    }
}

#[test]
fn bash_completion_completes_subcommands_and_values() {
    if !require(shell_available("bash"), "bash is needed to run completions") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = stdout(&run(dir.path(), &["completions", "bash"]));
    let file = dir.path().join("otel-bootstrap.bash");
    std::fs::write(&file, script).unwrap();
    // Simulates `otel-bootstrap <TAB>` and `otel-bootstrap completions <TAB>`.
    let probe = format!(
        r#"source '{}'
complete_words() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=();
  _otel__bootstrap otel-bootstrap "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}";
  printf '%s\n' "${{COMPREPLY[@]}}"; }}
complete_words otel-bootstrap ''
echo ---
complete_words otel-bootstrap completions ''
echo ---
complete_words otel-bootstrap --color ''
"#,
        file.display()
    );
    let out = output(Command::new("bash").arg("-c").arg(probe));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let sections: Vec<Vec<&str>> = text
        .split("---\n")
        .map(|section| section.split_whitespace().collect())
        .collect();
    assert_eq!(sections.len(), 3, "{text}");
    for word in [
        "registry",
        "completions",
        "man",
        "--site-packages",
        "--from",
    ] {
        assert!(sections[0].contains(&word), "`{word}` in {:?}", sections[0]);
    }
    for shell in SHELLS {
        assert!(sections[1].contains(shell), "{shell} in {:?}", sections[1]);
    }
    assert_eq!(sections[2], ["auto", "always", "never"]);
}

#[test]
fn completions_reject_an_unknown_shell() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("invalid value 'tcsh'"), "{text}");
    assert!(text.contains("bash"), "{text}");
}

#[test]
fn closed_stdout_is_a_clean_end() {
    if !require(shell_available("bash"), "bash is needed for a pipeline") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = support::python::bin();
    let out = output(
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "'{}' completions bash | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
                bin.display()
            ))
            .current_dir(dir.path()),
    );
    assert_eq!(stdout(&out).trim(), "0", "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn man_page_renders() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH otel-bootstrap 1"), "{page}");
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS", "EXAMPLES"] {
        assert!(page.contains(&format!(".SH {section}")), "{section}");
    }
    // Where man(1) is installed, it formats the page without complaint.
    if Command::new("man").arg("--version").output().is_ok() {
        let file = dir.path().join("otel-bootstrap.1");
        std::fs::write(&file, &page).unwrap();
        let rendered = output(
            Command::new("man")
                .args(["--warnings", "-l"])
                .arg(&file)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "100"),
        );
        let text = String::from_utf8_lossy(&rendered.stdout);
        if !rendered.status.success() {
            // man without a formatter (groff): nothing to check the page against.
            eprintln!(
                "note: man could not format pages here: {}",
                stderr(&rendered)
            );
            return;
        }
        assert!(
            text.contains("otel-bootstrap --from uv.lock --check"),
            "{text}"
        );
        assert!(stderr(&rendered).is_empty(), "{}", stderr(&rendered));
    }
}

const ESC: char = '\u{1b}';

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let has_escapes = |out: &Output| stderr(out).contains(ESC) || stdout(out).contains(ESC);
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let usage_error = ["--no-such-flag"];
    let our_error = ["--site-packages", missing];

    for args in [&usage_error[..], &our_error[..]] {
        // Not a terminal: no color by default.
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2));
        assert!(!has_escapes(&out), "{args:?}: {}", stderr(&out));

        // `--color always`, wherever it is on the line, and even with NO_COLOR: an
        // explicit flag wins.
        for (color, first) in [
            (&["--color", "always"][..], true),
            (&["--color=always"][..], false),
        ] {
            let mut with_color = args.to_vec();
            if first {
                with_color.splice(0..0, color.iter().copied());
            } else {
                with_color.extend(color);
            }
            let out = output(command(dir.path()).args(&with_color).env("NO_COLOR", "1"));
            assert_eq!(out.status.code(), Some(2));
            assert!(has_escapes(&out), "{with_color:?}: {}", stderr(&out));
            let text = stderr(&out);
            let red_error = format!("{ESC}[1m{ESC}[31merror:{ESC}[0m");
            assert!(text.starts_with(&red_error), "{text:?}");
        }

        // `--color never`, and `NO_COLOR` with `CLICOLOR_FORCE` (which would force it).
        let mut never = vec!["--color", "never"];
        never.extend(args);
        let out = run(dir.path(), &never);
        assert!(!has_escapes(&out), "{never:?}: {}", stderr(&out));
        let out = output(
            command(dir.path())
                .args(args)
                .env("CLICOLOR_FORCE", "1")
                .env("NO_COLOR", "1"),
        );
        assert!(!has_escapes(&out), "NO_COLOR: {}", stderr(&out));
    }

    // Our own prefixes: `error:` and `hint:` on one run.
    let out = run(
        dir.path(),
        &["--color", "always", "--site-packages", missing],
    );
    let text = stderr(&out);
    assert!(
        text.contains(&format!("{ESC}[36mhint:{ESC}[0m")),
        "{text:?}"
    );

    // Help in color on request, plain otherwise; an invalid `--color` is a usage error.
    let out = run(dir.path(), &["--help", "--color", "always"]);
    assert!(stdout(&out).contains(ESC));
    let out = run(dir.path(), &["--help"]);
    assert!(!stdout(&out).contains(ESC));
    let out = run(dir.path(), &["--color", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'sometimes'"));
}

#[test]
fn help_shows_the_common_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for example in [
        "otel-bootstrap -a install ",
        "otel-bootstrap | uv add -r -",
        "otel-bootstrap --from requirements.txt > otel.txt",
        "Dockerfile",
        "otel-bootstrap --from uv.lock --check",
        "otel-bootstrap --check",
        "otel-bootstrap completions zsh",
        "--color <WHEN>",
        "NO_COLOR",
        "the venv otel-bootstrap",
    ] {
        assert!(text.contains(example), "`{example}` missing:\n{text}");
    }
    // Every example is a command line the parser accepts.
    let examples = text
        .lines()
        .skip_while(|line| *line != "Examples:")
        .take_while(|line| !line.is_empty());
    for line in examples {
        let Some(example) = line.trim_start().strip_prefix("otel-bootstrap ") else {
            continue;
        };
        let command_part = example
            .split("  ")
            .next()
            .unwrap_or_default()
            .split(['|', '>'])
            .next()
            .unwrap_or_default();
        let mut args: Vec<&str> = command_part.split_whitespace().collect();
        if args.is_empty() {
            continue;
        }
        args.push("--help"); // parse only: `--help` after valid flags exits 0
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let out = run(dir.path(), &["completions", "--help"]);
    let text = stdout(&out);
    for shell in SHELLS {
        assert!(text.contains(&format!("  {shell} ")), "{shell}: {text}");
    }
}
