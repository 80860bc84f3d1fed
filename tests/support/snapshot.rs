//! Snapshots of what a person reads, in the shape uv's `uv_snapshot!` uses: a command's
//! exit status, stdout and stderr as one text, with the paths that differ from machine to
//! machine replaced by stable labels, so `insta` pins every `error:` / `warning:` /
//! `hint:` / `note:` word for word.

use std::path::Path;
use std::process::{Command, Output};

use super::python;

/// The transcript of `out`: `success`, `exit_code`, then stdout and stderr. Every path in
/// `paths` (and its canonical form) is replaced by its label, then the provisioned tools'
/// directory by `[TOOLS]` and the binary by `[BIN]`.
pub fn transcript(out: &Output, paths: &[(&Path, &str)]) -> String {
    let text = format!(
        "success: {}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        out.status.success(),
        out.status
            .code()
            .map_or_else(|| "signal".to_owned(), |code| code.to_string()),
        String::from_utf8_lossy(&out.stdout).replace('\r', "\\r"),
        String::from_utf8_lossy(&out.stderr).replace('\r', "\\r"),
    );
    filter(text, paths)
}

/// Runs `cmd` and returns its [`transcript`].
pub fn run(cmd: &mut Command, paths: &[(&Path, &str)]) -> String {
    transcript(&python::output(cmd), paths)
}

/// Replaces the given paths, longest first (a path inside another is replaced before the
/// one holding it), then the tools' directory and the binary.
fn filter(mut text: String, paths: &[(&Path, &str)]) -> String {
    let mut replacements: Vec<(String, String)> = Vec::new();
    let mut add = |path: &Path, label: &str| {
        replacements.push((path.display().to_string(), label.to_owned()));
        if let Ok(canonical) = path.canonicalize() {
            replacements.push((canonical.display().to_string(), label.to_owned()));
        }
    };
    add(&python::bin(), "[BIN]");
    for (path, label) in paths {
        add(path, label);
    }
    add(&python::tools_dir(), "[TOOLS]");
    replacements.retain(|(from, _)| !from.is_empty());
    replacements.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    for (from, to) in replacements {
        text = text.replace(&from, &to);
    }
    text
}
