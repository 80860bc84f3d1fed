//! Dependencies point one way. Every top-level module of `src/` has a layer; a module may
//! use modules of its own layer or below (`crate::x` in code, comments and tests left
//! out), never above. A new module must be given a layer here, which is where the layout
//! is written down (see ARCHITECTURE.md).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The layers, top first.
const LAYERS: &[(&str, &[&str])] = &[
    ("entry", &["main"]),
    ("jobs", &["jobs"]),
    (
        "command line and errors",
        &["cli", "settings", "completions", "error"],
    ),
    ("reports", &["explain", "output", "check"]),
    ("decisions", &["plan", "graph", "install", "overlay"]),
    (
        "reading the world",
        &[
            "environment",
            "interpreter",
            "python_request",
            "project",
            "scan",
            "lockfile",
            "registry",
            "index",
        ],
    ),
    (
        "foundations",
        &[
            "requirement",
            "diagnostics",
            "printer",
            "redact",
            "fuzzing",
            "lib",
            "untrusted",
            "sanitize",
        ],
    ),
];

/// Allowed exceptions, each with its reason.
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "fuzzing",
    "*",
    "the fuzz targets' entry points reach into the parsers they fuzz",
)];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(index) if !line[..index].contains('"') => &line[..index],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn visit(directory: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn modules_depend_only_on_their_layer_and_below() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&source, &mut files);
    let mut upward: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&source).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(own) = layer_of(&module) else {
            unplaced.push(module);
            continue;
        };
        let text = code(&fs::read_to_string(file).unwrap());
        for (index, _) in text.match_indices("crate::") {
            let rest = &text[index + "crate::".len()..];
            let used: String = rest
                .chars()
                .take_while(|character| character.is_ascii_alphanumeric() || *character == '_')
                .collect();
            // `crate::eprint_line!`: an exported macro, the printer's.
            let used = if rest[used.len()..].starts_with('!') {
                "printer".to_owned()
            } else {
                used
            };
            if used == module || used.is_empty() {
                continue;
            }
            let excepted = EXCEPTIONS
                .iter()
                .any(|(from, to, _)| *from == module && (*to == "*" || *to == used));
            match layer_of(&used) {
                Some(layer) if layer < own && !excepted => {
                    upward
                        .entry(relative.display().to_string())
                        .or_default()
                        .push(used);
                }
                None if !excepted => unplaced.push(used),
                _ => {}
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules with no layer in tests/it/architecture.rs: {unplaced:?}"
    );
    for uses in upward.values_mut() {
        uses.sort();
        uses.dedup();
    }
    assert!(
        upward.is_empty(),
        "modules that use a layer above their own: {upward:#?}"
    );
}

/// `src/requirement.rs` is the one door to `pep440_rs` / `pep508_rs` (their types are
/// re-exported from it), above all to their parsing: it refuses
/// input that would make them panic or overflow the stack, and fixes their disagreements
/// with `packaging`. Nowhere else may parse with them directly.
#[test]
fn only_requirement_rs_parses_with_the_pep_crates() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&source, &mut files);
    let parsers = [
        "Requirement>()",
        "parse::<Requirement",
        "parse::<Version",
        "parse::<MarkerTree",
        "parse::<pep440_rs::",
        "parse::<pep508_rs::",
        "Version::from_str",
        "VersionSpecifiers::from_str",
        "VersionSpecifier::from_str",
        "MarkerTree::from_str",
        "Requirement::from_str",
    ];
    let mut found = Vec::new();
    for file in &files {
        if file.ends_with("requirement.rs") {
            continue;
        }
        let text = code(&fs::read_to_string(file).unwrap());
        // Not even the types: they are re-exported by requirement.rs.
        for door in ["pep440_rs", "pep508_rs"] {
            if text.contains(door) {
                found.push(format!("{}: {door}", file.display()));
            }
        }
        for parser in parsers {
            if text.contains(parser) {
                found.push(format!("{}: {parser}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "parse through src/requirement.rs: {found:#?}"
    );
}

/// The jobs take resolved settings (`src/settings.rs`), never the command line's clap
/// types: no file under `src/jobs/` names `crate::cli` or `clap`.
#[test]
fn jobs_take_settings_not_clap_types() {
    let mut files = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/jobs"),
        &mut files,
    );
    let found: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = code(&fs::read_to_string(file).unwrap());
            text.contains("crate::cli") || text.contains("clap::")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(found.is_empty(), "jobs naming clap types: {found:#?}");
}

/// Messages go through the one `Printer` (issue #18): no file but `src/printer.rs` and the
/// error renderer in `src/main.rs` writes to stderr or stdout with a print macro (data is
/// written to a locked stdout by the output modules), so what is said under `-q`, `-v` and
/// JSON is decided in one place, and every message is redacted on its way out.
#[test]
fn only_the_printer_prints() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&source, &mut files);
    files.retain(|file| file != &source.join("printer.rs") && file != &source.join("main.rs"));
    let writers = [
        "eprint_line!",
        "eprint_text!",
        "eprint_labelled",
        "eprintln!",
        "println!",
        "eprint!(",
        "print!(",
    ];
    let found: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let text = code(&fs::read_to_string(file).unwrap());
            writers
                .iter()
                .filter(|writer| text.contains(*writer))
                .map(|writer| format!("{}: {writer}", file.display()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(found.is_empty(), "printing around the printer: {found:#?}");
}
