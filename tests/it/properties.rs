//! Property and differential tests: our PEP 440 / PEP 508 handling (through
//! `otel_bootstrap::requirement`, the one door outside strings go through) and our
//! site-packages scan, against Python's reference implementations.
//!
//! * [`packaging_test_vectors`]: the version and specifier vectors of `packaging`'s own
//!   test suite (`tests/data/packaging-vectors.json`, data only, see `tests/data/README.md`).
//! * [`versions_and_specifiers_agree_with_packaging`]: proptest generates versions (epochs,
//!   pre/post/dev releases with every spelling, local labels, `v` prefixes, case) and
//!   specifier sets (`~=`, `==` / `!=` wildcards, `===`, several clauses); every case is
//!   evaluated by us and by `packaging >= 26` in one Python process (JSON lines on
//!   stdin/stdout), and the answers must be the same.
//! * [`scan_agrees_with_importlib_metadata`]: proptest generates site-packages directories
//!   (names in every spelling, `.dist-info` and `.egg-info`, header quirks); our scan and
//!   `importlib.metadata` must find the same projects at the same versions.
//!
//! `packaging` is provisioned once into `<target>/test-tools/packaging-venv` (a
//! `pip install --target`, so no venv is needed: the helper runs `python3 -I -S` with it
//! on `sys.path`), under the same lock-and-rename protocol as `support/python.rs`; offline
//! from `OTEL_BOOTSTRAP_TEST_WHEELHOUSE` when set. Without `python3` or the index the tests
//! skip (fail under `CI=true`), except the vectors test, which needs no Python.
//!
//! # Known differences, by design
//!
//! Each is listed in [`KNOWN_VECTOR_DIFFERENCES`] or filtered in the generators, with the
//! reason, and in the README ("Version semantics"):
//!
//! 1. Pre-releases: we evaluate installed versions, so a pre-release inside the range is
//!    contained (`packaging`'s `contains(v, prereleases=True)`, which `installed=True`
//!    also gives in packaging >= 26). `packaging`'s default (`prereleases=None`) rejects
//!    them; the comparison here always uses `prereleases=True`.
//! 2. `===` (arbitrary equality): `pep440_rs` compares the normalized text of the parsed
//!    versions, `packaging` the strings as written; no registry uses `===`. Cases with
//!    `===` are compared only when the candidate is written exactly like the specifier's
//!    version.
#![cfg(unix)]

use crate::support;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use otel_bootstrap::requirement::{parse_version, PlainRequirement};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use support::python::{self, skip_or_fail};

/// How many generated cases each differential test sends (`OTEL_BOOTSTRAP_PROPTEST_CASES`).
fn cases() -> usize {
    std::env::var("OTEL_BOOTSTRAP_PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(4000)
}

// ---------------------------------------------------------------------------------------
// Provisioning packaging (the lock-and-rename protocol of support/python.rs)
// ---------------------------------------------------------------------------------------

/// `<tools>/packaging-venv`, holding `packaging >= 26` (importable with it on `sys.path`).
fn packaging_dir() -> Option<PathBuf> {
    let python3 = python::python3()?;
    let dest = python::tools_dir().join("packaging-venv");
    if dest.join("packaging").is_dir() {
        return Some(dest);
    }
    let _lock = python::lock("packaging-venv");
    if dest.join("packaging").is_dir() {
        return Some(dest);
    }
    let tmp = python::tools_dir().join(format!(".tmp-packaging-venv-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let mut pip = Command::new(python3);
    pip.env_remove("PYTHONPATH")
        .env_remove("PIP_TARGET")
        .env_remove("PIP_PREFIX")
        .env_remove("PIP_USER")
        .env_remove("PIP_REQUIRE_VIRTUALENV")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .args(["-m", "pip", "install", "--quiet", "--no-compile"])
        .args(["--only-binary=:all:", "--target"])
        .arg(&tmp);
    match std::env::var_os(python::WHEELHOUSE_ENV) {
        Some(dir) if !dir.is_empty() => {
            pip.args(["--no-index", "--find-links"]).arg(dir);
        }
        _ => {
            pip.args(["--timeout", "30", "--retries", "1"]);
        }
    }
    pip.arg("packaging>=26").stdin(Stdio::null());
    let output = pip.output();
    match output {
        Ok(output) if output.status.success() => {
            fs::rename(&tmp, &dest).unwrap();
            Some(dest)
        }
        Ok(output) => {
            let _ = fs::remove_dir_all(&tmp);
            skip_or_fail(&format!(
                "pip install packaging>=26 failed (no network? set {}): {}",
                python::WHEELHOUSE_ENV,
                String::from_utf8_lossy(&output.stderr)
            ));
            None
        }
        Err(error) => {
            skip_or_fail(&format!("cannot run pip: {error}"));
            None
        }
    }
}

/// The Python side: one JSON query per line in, one JSON answer per line out.
const HELPER: &str = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import packaging
from packaging.version import Version, InvalidVersion
from packaging.specifiers import SpecifierSet, InvalidSpecifier
from packaging.utils import canonicalize_name
assert int(packaging.__version__.split(".")[0]) >= 26, packaging.__version__
def answer(query):
    kind = query["kind"]
    if kind == "version":
        try:
            return {"valid": True, "text": str(Version(query["v"]))}
        except InvalidVersion:
            return {"valid": False}
    if kind == "cmp":
        a, b = Version(query["a"]), Version(query["b"])
        return {"cmp": (a > b) - (a < b)}
    if kind == "contains":
        try:
            specifiers = SpecifierSet(query["s"])
        except InvalidSpecifier:
            return {"valid": False}
        try:
            version = Version(query["v"])
        except InvalidVersion:
            return {"valid": True, "version_valid": False}
        return {"valid": True, "version_valid": True,
                "contains": specifiers.contains(version, prereleases=True)}
    if kind == "scan":
        from importlib.metadata import distributions
        found = []
        for dist in distributions(path=[query["dir"]]):
            name, version = dist.metadata["Name"], dist.version
            try:
                version = str(Version(version)) if version is not None else None
            except InvalidVersion:
                version = None
            if name and version:
                found.append([canonicalize_name(name), version])
        return {"dists": sorted(found)}
    raise ValueError(kind)
for line in sys.stdin:
    sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
"#;

/// Sends every query to one Python process; returns the answers in order.
fn ask_packaging(packaging: &Path, queries: &[Value]) -> Vec<Value> {
    let python3 = python::python3().expect("python3");
    let mut child = Command::new(python3)
        .args(["-I", "-S", "-c", HELPER])
        .arg(packaging)
        .env_remove("PYTHONPATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().unwrap();
    let input: String = queries.iter().map(|query| format!("{query}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "the packaging helper failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), queries.len());
    answers
}

// ---------------------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------------------

/// A specifier set through the registry's door: `pkg<specifiers>`. `None` when refused.
fn our_specifiers(specifiers: &str) -> Option<PlainRequirement> {
    PlainRequirement::parse(&format!("pkg {specifiers}")).ok()
}

fn our_contains(specifiers: &str, version: &str) -> Option<bool> {
    let requirement = our_specifiers(specifiers)?;
    Some(requirement.contains(&parse_version(version)?))
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u32..4).prop_map(|n| n.to_string()),
        1 => (0u32..30).prop_map(|n| n.to_string()),
        1 => Just("00".to_owned()),
        1 => Just("01".to_owned()),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![3 => Just(""), 3 => Just("."), 1 => Just("-"), 1 => Just("_")]
}

/// Versions in every spelling PEP 440 allows, plus some it does not.
fn version_text() -> impl Strategy<Value = String> {
    let release = prop::collection::vec(number(), 1..4).prop_map(|parts| parts.join("."));
    let epoch = prop::option::weighted(0.1, (0u32..3).prop_map(|n| format!("{n}!")));
    let pre = prop::option::weighted(
        0.35,
        (
            separator(),
            prop::sample::select(vec![
                "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC",
            ]),
            separator(),
            prop::option::weighted(0.8, number()),
        )
            .prop_map(|(s1, label, s2, n)| match n {
                Some(n) => format!("{s1}{label}{s2}{n}"),
                None => format!("{s1}{label}"),
            }),
    );
    let post = prop::option::weighted(
        0.2,
        prop_oneof![
            (
                separator(),
                prop::sample::select(vec!["post", "rev", "r", "POST"]),
                number()
            )
                .prop_map(|(s, label, n)| format!("{s}{label}{n}")),
            number().prop_map(|n| format!("-{n}")),
            Just(".post".to_owned()),
        ],
    );
    let dev = prop::option::weighted(
        0.2,
        (separator(), prop::option::weighted(0.8, number()))
            .prop_map(|(s, n)| format!("{s}dev{}", n.unwrap_or_default())),
    );
    let local = prop::option::weighted(
        0.15,
        prop_oneof![
            Just("+local".to_owned()),
            Just("+ubuntu1".to_owned()),
            Just("+1.2".to_owned()),
            Just("+abc-DEF_1".to_owned()),
            Just("+".to_owned()),
        ],
    );
    let prefix = prop::sample::select(vec!["", "", "", "", "v", "V", " "]);
    (prefix, epoch, release, pre, post, dev, local).prop_map(
        |(prefix, epoch, release, pre, post, dev, local)| {
            format!(
                "{prefix}{}{release}{}{}{}{}",
                epoch.unwrap_or_default(),
                pre.unwrap_or_default(),
                post.unwrap_or_default(),
                dev.unwrap_or_default(),
                local.unwrap_or_default()
            )
        },
    )
}

/// Short, normalized-looking versions near each other, so that ranges and versions meet.
fn close_version() -> impl Strategy<Value = String> {
    let release = prop::collection::vec(0u32..3, 1..4).prop_map(|parts| {
        parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    });
    let suffix = prop::sample::select(vec![
        "",
        "",
        "",
        "",
        "a1",
        "b2",
        "rc1",
        ".post1",
        ".dev0",
        "a1.dev1",
        ".post1.dev2",
        "+local",
        "+1",
        ".post0",
    ]);
    let epoch = prop::sample::select(vec!["", "", "", "", "", "", "", "1!"]);
    (epoch, release, suffix)
        .prop_map(|(epoch, release, suffix)| format!("{epoch}{release}{suffix}"))
}

fn specifier() -> impl Strategy<Value = String> {
    let operator = prop::sample::select(vec!["==", "!=", "<=", ">=", "<", ">", "~=", "==="]);
    let space = prop::sample::select(vec!["", "", " "]);
    (
        space.clone(),
        operator,
        space,
        close_version(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(s1, operator, s2, version, wildcard)| {
            let star = if wildcard { ".*" } else { "" };
            format!("{s1}{operator}{s2}{version}{star}")
        })
}

fn specifier_set() -> impl Strategy<Value = String> {
    prop::collection::vec(specifier(), 1..4).prop_map(|clauses| clauses.join(","))
}

/// `count` values of `strategy`, deterministically (the seed is fixed, so a failure is
/// reproducible; set `PROPTEST_RNG_SEED`-style variety by changing the count).
fn sample<S: Strategy>(strategy: S, count: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

// ---------------------------------------------------------------------------------------
// packaging's own vectors
// ---------------------------------------------------------------------------------------

/// Vector results where we differ from packaging 26.3's test suite, each on purpose:
/// `(section, specifier or version, version, packaging's answer)`.
const KNOWN_VECTOR_DIFFERENCES: &[(&str, &str, &str, &str)] = &[];

fn vectors() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packaging-vectors.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn packaging_test_vectors() {
    let vectors = vectors();
    let mut differences: Vec<(String, String, String, String)> = Vec::new();
    let mut differ = |section: &str, a: &str, b: &str, expected: String| {
        differences.push((section.to_owned(), a.to_owned(), b.to_owned(), expected));
    };

    // Every listed version parses, and the list is in ascending order.
    let sorted = strings(&vectors["versions_sorted"]);
    let parsed: Vec<_> = sorted
        .iter()
        .map(|text| (text, parse_version(text)))
        .collect();
    for (text, version) in &parsed {
        if version.is_none() {
            differ("versions_sorted", text, "", "valid".into());
        }
    }
    let valid: Vec<_> = parsed
        .iter()
        .filter_map(|(text, version)| Some((text, version.clone()?)))
        .collect();
    for (index, (left_text, left)) in valid.iter().enumerate() {
        for (right_text, right) in &valid[index + 1..] {
            if left >= right {
                differ("versions_sorted", left_text, right_text, "<".into());
            }
        }
    }
    for text in strings(&vectors["versions_invalid"]) {
        if parse_version(&text).is_some() {
            differ("versions_invalid", &text, "", "invalid".into());
        }
    }
    for pair in vectors["versions_normalized"].as_array().unwrap() {
        let (text, normalized) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let ours = parse_version(text).map(|version| version.to_string());
        if ours.as_deref() != Some(normalized) {
            differ("versions_normalized", text, "", normalized.to_owned());
        }
    }
    for section in [
        "specifier_contains_prereleases_true",
        "specifier_contains_installed",
        "specifier_contains_default",
    ] {
        for row in vectors[section].as_array().unwrap() {
            let (specifiers, version, expected) = (
                row[0].as_str().unwrap(),
                row[1].as_str().unwrap(),
                row[2].as_bool().unwrap(),
            );
            if our_contains(specifiers, version) != Some(expected) {
                differ(section, specifiers, version, expected.to_string());
            }
        }
    }
    for specifier in strings(&vectors["specifiers_invalid"]) {
        if our_specifiers(&specifier).is_some() {
            differ("specifiers_invalid", &specifier, "", "invalid".into());
        }
    }

    let known: Vec<(String, String, String, String)> = KNOWN_VECTOR_DIFFERENCES
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    let unexpected: Vec<_> = differences
        .iter()
        .filter(|difference| !known.contains(difference))
        .collect();
    let resolved: Vec<_> = known
        .iter()
        .filter(|difference| !differences.contains(difference))
        .collect();
    assert!(
        unexpected.is_empty() && resolved.is_empty(),
        "new differences from packaging's vectors: {unexpected:#?}\n\
         listed differences that no longer occur: {resolved:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Differential: generated versions and specifier sets
// ---------------------------------------------------------------------------------------

#[test]
fn versions_and_specifiers_agree_with_packaging() {
    let Some(packaging) = packaging_dir() else {
        return;
    };
    let count = cases();
    let versions = sample(version_text(), count);
    let pairs = sample((close_version(), close_version()), count);
    let contains = sample((specifier_set(), close_version()), count);

    let mut queries: Vec<Value> = Vec::new();
    queries.extend(versions.iter().map(|v| json!({"kind": "version", "v": v})));
    queries.extend(
        pairs
            .iter()
            .map(|(a, b)| json!({"kind": "cmp", "a": a, "b": b})),
    );
    queries.extend(
        contains
            .iter()
            .map(|(s, v)| json!({"kind": "contains", "s": s, "v": v})),
    );
    let answers = ask_packaging(&packaging, &queries);
    let (version_answers, rest) = answers.split_at(versions.len());
    let (cmp_answers, contains_answers) = rest.split_at(pairs.len());

    let mut failures = Vec::new();
    for (text, answer) in versions.iter().zip(version_answers) {
        let ours = parse_version(text).map(|version| version.to_string());
        let theirs = answer["text"].as_str().map(str::to_owned);
        if ours != theirs {
            failures.push(format!(
                "Version({text:?}): ours {ours:?}, packaging {theirs:?}"
            ));
        }
    }
    for ((a, b), answer) in pairs.iter().zip(cmp_answers) {
        let ours = parse_version(a).unwrap().cmp(&parse_version(b).unwrap()) as i64;
        let theirs = answer["cmp"].as_i64().unwrap();
        if ours != theirs {
            failures.push(format!("cmp({a}, {b}): ours {ours}, packaging {theirs}"));
        }
    }
    let mut compared = 0;
    for ((specifiers, version), answer) in contains.iter().zip(contains_answers) {
        if specifiers.contains("===") && !arbitrary_equality_comparable(specifiers, version) {
            continue;
        }
        let ours_valid = our_specifiers(specifiers).is_some();
        let theirs_valid = answer["valid"].as_bool().unwrap();
        if ours_valid != theirs_valid {
            failures.push(format!(
                "SpecifierSet({specifiers:?}) valid: ours {ours_valid}, packaging {theirs_valid}"
            ));
            continue;
        }
        if !ours_valid {
            continue;
        }
        compared += 1;
        let ours = our_contains(specifiers, version);
        let theirs = answer["contains"].as_bool();
        if ours != theirs {
            failures.push(format!(
                "{version:?} in {specifiers:?} (prereleases=True): ours {ours:?}, packaging {theirs:?}"
            ));
        }
    }
    eprintln!(
        "{} versions, {} comparisons, {} valid specifier sets ({compared} evaluated) agree with packaging",
        versions.len(),
        pairs.len(),
        contains.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with packaging, the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

/// Difference 2 (see the module docs): `===` is compared only when every `===` clause
/// names the candidate exactly as written.
fn arbitrary_equality_comparable(specifiers: &str, version: &str) -> bool {
    specifiers
        .split(',')
        .filter_map(|clause| clause.trim().strip_prefix("==="))
        .all(|value| value.trim() == version)
}

// ---------------------------------------------------------------------------------------
// Differential: our scan against importlib.metadata
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct FakeDist {
    name: String,
    version: String,
    egg_info: bool,
    folder_spelling: u8,
    crlf: bool,
    key_case: u8,
    space: &'static str,
    extra_headers: bool,
    body: bool,
}

fn project_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{0,6}([._-]{1,2}[A-Za-z0-9]{1,5}){0,2}"
}

fn fake_dist() -> impl Strategy<Value = FakeDist> {
    (
        project_name(),
        prop_oneof![4 => close_version(), 1 => version_text()],
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        0u8..3,
        prop::sample::select(vec!["", " ", "   ", "\t"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                name,
                version,
                egg_info,
                folder_spelling,
                crlf,
                key_case,
                space,
                extra_headers,
                body,
            )| {
                FakeDist {
                    name,
                    version: version.trim().to_owned(),
                    egg_info,
                    folder_spelling,
                    crlf,
                    key_case,
                    space,
                    extra_headers,
                    body,
                }
            },
        )
}

fn write_fake_dist(dir: &Path, dist: &FakeDist) {
    let escaped = |text: &str| -> String {
        let mut out = String::new();
        let mut previous = false;
        for character in text.chars() {
            if matches!(character, '-' | '_' | '.') {
                if !previous {
                    out.push('_');
                }
                previous = true;
            } else {
                out.push(character);
                previous = false;
            }
        }
        out
    };
    let stem_name = match dist.folder_spelling {
        0 => escaped(&dist.name),
        1 => escaped(&dist.name).to_lowercase(),
        _ => escaped(&dist.name).to_uppercase(),
    };
    let version_in_folder = dist.version.replace('-', "_");
    let (folder, file) = if dist.egg_info {
        (
            format!("{stem_name}-{version_in_folder}.egg-info"),
            "PKG-INFO",
        )
    } else {
        (
            format!("{stem_name}-{version_in_folder}.dist-info"),
            "METADATA",
        )
    };
    let (name_key, version_key) = match dist.key_case {
        0 => ("Name", "Version"),
        1 => ("name", "version"),
        _ => ("NAME", "VERSION"),
    };
    let mut lines = vec!["Metadata-Version: 2.1".to_owned()];
    if dist.extra_headers {
        lines.push("Summary: a summary".to_owned());
        lines.push("  folded onto a second line".to_owned());
        lines.push("Home-page: https://example.com/name".to_owned());
    }
    lines.push(format!("{name_key}:{}{}", dist.space, dist.name));
    lines.push(format!("{version_key}:{}{}", dist.space, dist.version));
    lines.push("Requires-Dist: other>=1".to_owned());
    let newline = if dist.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(newline) + newline;
    if dist.body {
        text.push_str(newline);
        text.push_str("Name: not-the-name");
        text.push_str(newline);
        text.push_str("Version: 99");
        text.push_str(newline);
    }
    let folder = dir.join(folder);
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join(file), text).unwrap();
}

#[test]
fn scan_agrees_with_importlib_metadata() {
    let Some(packaging) = packaging_dir() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let sites = sample(prop::collection::vec(fake_dist(), 1..12), cases() / 20);
    let mut queries = Vec::new();
    let mut directories = Vec::new();
    for (index, dists) in sites.iter().enumerate() {
        let dir = root.path().join(format!("site-{index}"));
        fs::create_dir_all(&dir).unwrap();
        // One folder per project (duplicates are resolved by order, which differs).
        let mut seen = HashSet::new();
        let dists: Vec<_> = dists
            .iter()
            .filter(|dist| seen.insert(otel_bootstrap::requirement::normalize(&dist.name)))
            .collect();
        for dist in &dists {
            write_fake_dist(&dir, dist);
        }
        queries.push(json!({"kind": "scan", "dir": dir}));
        directories.push((dir, dists));
    }
    let answers = ask_packaging(&packaging, &queries);
    let mut failures = Vec::new();
    for ((dir, dists), answer) in directories.iter().zip(&answers) {
        let wanted: HashSet<String> = dists
            .iter()
            .map(|dist| otel_bootstrap::requirement::normalize(&dist.name))
            .collect();
        let installed = otel_bootstrap::scan::scan(std::slice::from_ref(dir), &wanted);
        let ours: BTreeMap<String, String> = installed
            .iter_sorted()
            .into_iter()
            // A version that is not PEP 440 is kept (the plan skips it with a reason);
            // importlib.metadata's answer is filtered through packaging the same way.
            .filter_map(|dist| Some((dist.name.to_string(), dist.version.as_ref()?.to_string())))
            .collect();
        let theirs: BTreeMap<String, String> = answer["dists"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_owned(),
                    pair[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if ours != theirs {
            failures.push(format!(
                "{}:\n  ours     {ours:?}\n  importlib {theirs:?}\n  dists {dists:#?}",
                dir.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} directories disagree with importlib.metadata:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Properties of our own (no Python)
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    /// Outside strings never panic: any text is a requirement or an error.
    #[test]
    fn requirement_parsing_never_panics(text in "\\PC{0,40}") {
        let _ = PlainRequirement::parse(&text);
        let _ = parse_version(&text);
        let _ = otel_bootstrap::requirement::parse_name(&text);
    }

    /// A version prints in normal form, and that form parses back to the same version.
    #[test]
    fn normalized_versions_round_trip(text in version_text()) {
        if let Some(version) = parse_version(&text) {
            let printed = version.to_string();
            prop_assert_eq!(parse_version(&printed), Some(version));
        }
    }

    /// PEP 503 normalization is idempotent and agrees with `parse_name` on valid names.
    #[test]
    fn normalization_is_idempotent(name in project_name()) {
        let once = otel_bootstrap::requirement::normalize(&name);
        prop_assert_eq!(otel_bootstrap::requirement::normalize(&once), once.clone());
        let parsed = otel_bootstrap::requirement::parse_name(&name).unwrap();
        prop_assert_eq!(parsed.as_ref(), once.as_str());
    }

    /// The METADATA parser never panics and finds `Name`/`Version` whatever follows the
    /// header block.
    #[test]
    fn metadata_header_ignores_the_body(
        body in prop::collection::vec(any::<u8>(), 0..2000),
        crlf in any::<bool>(),
    ) {
        let newline: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut bytes = Vec::new();
        for line in [&b"Metadata-Version: 2.1"[..], b"Name: flask", b"Version: 3.0.0", b""] {
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(newline);
        }
        bytes.extend_from_slice(&body);
        let metadata = otel_bootstrap::scan::metadata::read_core_metadata(&bytes[..]).unwrap();
        prop_assert_eq!(metadata.name.as_deref(), Some("flask"));
        prop_assert_eq!(metadata.version.as_deref(), Some("3.0.0"));
        otel_bootstrap::fuzzing::metadata(&body);
    }
}
