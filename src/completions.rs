//! Shell completion scripts (`otel-bootstrap completions <shell>`) and the man page
//! (`otel-bootstrap man`), both generated from the clap definition in [`crate::cli`], so
//! they always match the real flags.
//!
//! Each is rendered into memory first: clap's generators panic on a failed write, and a
//! closed stdout (`otel-bootstrap completions bash | head`) must be a clean end instead.

use clap::CommandFactory as _;

use crate::cli::Cli;

use clap_complete::Shell;

/// The program name the scripts complete (the name of the installed executable).
pub(crate) const BIN_NAME: &str = "otel-bootstrap";

/// The completion script for `shell`.
pub(crate) fn completion_script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN_NAME, &mut script);
    if shell == Shell::Bash {
        fix_bash_state_names(&mut script);
    }
    script
}

/// Works around clap_complete 4.6.11's bash generator for a binary name with a hyphen
/// (clap-rs/clap#6421): the loop that walks the words names the state after
/// `otel-bootstrap completions` as `otel__bootstrap__subcmd__completions`, but the `case`
/// arms spell it `otel__subcmd__bootstrap__subcmd__completions`, so nothing after a
/// subcommand ever completed. Respelling the arms as the loop does fixes it; once clap
/// generates consistent names this finds nothing to replace.
fn fix_bash_state_names(script: &mut Vec<u8>) {
    const SEPARATOR: &str = "__subcmd__";
    let wrong = format!("{}{SEPARATOR}", BIN_NAME.replace('-', SEPARATOR));
    let right = format!("{}{SEPARATOR}", BIN_NAME.replace('-', "__"));
    if let Ok(text) = std::str::from_utf8(script) {
        if text.contains(&wrong) {
            *script = text.replace(&wrong, &right).into_bytes();
        }
    }
}

/// The man page (roff, section 1). The examples keep their layout (`.nf`), which clap's
/// generic `EXTRA` section would refill into one paragraph.
pub(crate) fn man_page() -> std::io::Result<Vec<u8>> {
    let command = Cli::command()
        .name(BIN_NAME)
        .version(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(command);
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    // `--help` ends with the examples, then notes (environment order, colors, exit status).
    let (examples, notes) = crate::cli::AFTER_HELP
        .split_once("\n\n")
        .unwrap_or((crate::cli::AFTER_HELP, ""));
    let examples = examples.strip_prefix("Examples:\n").unwrap_or(examples);
    for (title, text) in [("EXAMPLES", examples), ("\"NOTES\"", notes)] {
        if text.is_empty() {
            continue;
        }
        page.extend_from_slice(format!(".SH {title}\n.nf\n").as_bytes());
        for line in text.lines() {
            page.extend_from_slice(roff_literal_line(line).as_bytes());
            page.push(b'\n');
        }
        page.extend_from_slice(b".fi\n");
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// One line of text for a no-fill block: backslashes and hyphens escaped, and a leading
/// `.` or `'` (a roff request) neutralised.
fn roff_literal_line(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn every_shell_gets_a_script_naming_the_flags() {
        for shell in Shell::value_variants() {
            let script = String::from_utf8(completion_script(*shell)).expect("UTF-8 script");
            assert!(script.contains(BIN_NAME), "{shell}: no program name");
            for flag in ["site-packages", "otel-version", "completions", "color"] {
                assert!(script.contains(flag), "{shell}: `{flag}` missing");
            }
        }
    }

    #[test]
    fn bash_states_are_spelled_one_way() {
        let script = String::from_utf8(completion_script(Shell::Bash)).expect("UTF-8 script");
        assert!(script.contains("cmd=\"otel__bootstrap__subcmd__completions\""));
        assert!(script.contains("\n        otel__bootstrap__subcmd__completions)\n"));
        assert!(!script.contains("otel__subcmd__bootstrap"), "{script}");
    }

    #[test]
    fn man_page_has_the_sections() {
        let page = String::from_utf8(man_page().expect("render")).expect("UTF-8 page");
        for needle in [
            ".TH otel-bootstrap 1",
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH EXAMPLES\n.nf\n  otel\\-bootstrap ",
            ".SH \"NOTES\"\n.nf\nThe environment is",
            "site\\-packages",
            "otel\\-bootstrap \\-\\-from uv.lock \\-\\-check",
        ] {
            assert!(page.contains(needle), "`{needle}` missing");
        }
    }

    #[test]
    fn color_is_read_before_parsing() {
        use crate::cli::color_from_args;
        use clap::ColorChoice::{Always, Auto, Never};
        let color = |args: &[&str]| {
            color_from_args(std::iter::once("otel-bootstrap").chain(args.iter().copied()))
        };
        assert_eq!(color(&[]), Auto);
        assert_eq!(color(&["--color", "never"]), Never);
        assert_eq!(color(&["-q", "--color=always"]), Always);
        assert_eq!(color(&["--color", "never", "--color=always"]), Always);
        assert_eq!(color(&["--color", "sometimes"]), Auto); // clap reports it
        assert_eq!(color(&["-a", "install", "--", "--color", "never"]), Auto);
        assert_eq!(color(&["--color"]), Auto);
    }

    #[test]
    fn roff_lines_are_escaped() {
        assert_eq!(roff_literal_line(".venv here"), "\\&.venv here");
        assert_eq!(roff_literal_line("'quoted'"), "\\&'quoted'");
        assert_eq!(roff_literal_line(r"a\b-c"), r"a\eb\-c");
    }
}
