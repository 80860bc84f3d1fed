//! A release for an installed `opentelemetry-instrumentation` newer than every registry:
//! derived from the target itself, or projected from the newest known release.
//!
//! **Derived.** The installed release carries its own list,
//! `opentelemetry/instrumentation/bootstrap_gen.py` (read without Python, as untrusted
//! input: see [`super::bootstrap_gen`]). Its instrumentations, kinds, requirements and
//! library ranges are taken as the truth. For each instrumentation, the `instruments` /
//! `instruments_any` split comes from:
//!
//! 1. the `METADATA` of the instrumentation when it is installed next to it at a version
//!    its requirement accepts (exactly what the registry generator reads from the wheel);
//! 2. else the newest known release, when it lists the instrumentation: each library keeps
//!    the side (all of / any of) it has there, with the new list's range; a library it
//!    no longer lists is dropped. A library new to the instrumentation joins the all-of
//!    side when the known release requires several libraries together (so the derived
//!    release never recommends on weaker evidence, e.g. `pydantic` alone never pulls in
//!    tortoiseorm); otherwise (one required library, or alternatives) every library of
//!    the new list becomes an alternative;
//! 3. else (an instrumentation never seen): its libraries are alternatives, any one of
//!    them suffices (how upstream's own `opentelemetry-bootstrap` reads the list).
//!
//! The opt-in packages of the newest known release are kept, lock-step ones re-pinned.
//! Every entry is marked published: offline there is no way to know, and only pins to
//! the installed release can be installed next to it (every instrumentation pins
//! `opentelemetry-instrumentation` exactly), so there is nothing better to align to.
//!
//! **Projected.** With no usable list (a lockfile, a broken file), the newest known
//! release's entries are used with every `==<that release>` pin moved to the installed
//! version: the core is never moved backwards, and what is missing is said in a warning.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::requirement::Version;

use super::bootstrap_gen::{parse_bootstrap_gen, Bootstrap};
use super::document::{CoreDocument, InstrumentationDocument, ReleaseDocument};
use super::wheel::{parse_metadata, plan_instrumentations, BOOTSTRAP_GEN_PATH, CORE_PACKAGES};
use super::{Instrumentation, Kind, Release};
use crate::requirement::{normalize, PlainRequirement};

/// Why no release could be derived from the target.
#[derive(Debug)]
pub(crate) enum DeriveError {
    /// No `bootstrap_gen.py` next to the distribution (a lockfile, an odd layout).
    NotFound,
    /// The file is there but cannot be used.
    Invalid { path: PathBuf, reason: String },
}

/// The release document derived from the `bootstrap_gen.py` installed next to
/// `distribution_path` (the `opentelemetry-instrumentation` `*.dist-info`), and that file.
pub(crate) fn derive_from_target(
    base: &Release,
    installed: &Version,
    raw_installed: &str,
    distribution_path: &Path,
) -> Result<(String, PathBuf), DeriveError> {
    let Some(site_packages) = distribution_path.parent() else {
        return Err(DeriveError::NotFound);
    };
    if !distribution_path.is_dir() {
        return Err(DeriveError::NotFound);
    }
    let path = site_packages.join(BOOTSTRAP_GEN_PATH);
    let invalid = |reason: String| DeriveError::Invalid {
        path: path.clone(),
        reason,
    };
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(DeriveError::NotFound)
        }
        Err(error) => return Err(invalid(error.to_string())),
        Ok(_) => {}
    }
    let text = crate::untrusted::read_text(&path, crate::untrusted::FileKind::BootstrapGen)
        .map_err(|error| invalid(error.to_string()))?;
    let bootstrap = parse_bootstrap_gen(&text).map_err(invalid)?;
    // One scan of site-packages for every name the list plans, not one per entry.
    let wanted: HashSet<String> = plan_instrumentations(&bootstrap)
        .map_err(|error| invalid(format!("{error:#}")))?
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    let found = crate::scan::scan(&[site_packages.to_path_buf()], &wanted);
    let mut document = derive(
        base,
        installed,
        raw_installed,
        &bootstrap,
        |_, requirement| installed_instruments(&found, requirement),
    )
    .map_err(invalid)?;
    if let Some(range) = requires_python(distribution_path) {
        document.requires_python = Some(range);
    }
    Ok((document.to_json(), path))
}

/// The installed `opentelemetry-instrumentation`'s own `Requires-Python` (from its
/// `METADATA`), when it declares a valid one: the derived release's.
fn requires_python(distribution_path: &Path) -> Option<String> {
    let file = std::fs::File::open(distribution_path.join("METADATA")).ok()?;
    let mut requires_python = None;
    let _ = crate::scan::metadata::read_headers(file, |key, value| {
        if key.eq_ignore_ascii_case("requires-python") {
            requires_python = super::PythonRange::parse(value);
        }
        true
    });
    requires_python.map(|range| range.raw)
}

/// `(instruments, instruments_any)` from the installed `METADATA` of an instrumentation,
/// when it is installed at a version its requirement accepts.
fn installed_instruments(
    found: &crate::scan::Installed,
    requirement: &PlainRequirement,
) -> Option<(Vec<String>, Vec<String>)> {
    let distribution = found.get(&requirement.name)?;
    if !requirement.contains(distribution.version.as_ref()?) {
        return None;
    }
    // The scan's reader: a regular file only (a FIFO never blocks), the header block only.
    let mut text = String::new();
    for value in crate::scan::requires_dist(&distribution.path).ok()? {
        text.push_str("Requires-Dist: ");
        text.push_str(&value);
        text.push('\n');
    }
    let metadata = parse_metadata(&text);
    (!metadata.instruments.is_empty() || !metadata.instruments_any.is_empty())
        .then_some((metadata.instruments, metadata.instruments_any))
}

/// The release document for `raw_installed` from its `bootstrap`, with `base` (the
/// newest known release) for what the list does not say; see the module documentation.
/// `installed_metadata(name, requirement)` gives an installed instrumentation's lists.
pub(crate) fn derive(
    base: &Release,
    installed: &Version,
    raw_installed: &str,
    bootstrap: &Bootstrap,
    installed_metadata: impl Fn(&str, &PlainRequirement) -> Option<(Vec<String>, Vec<String>)>,
) -> Result<ReleaseDocument, String> {
    let _ = installed;
    let planned = plan_instrumentations(bootstrap).map_err(|error| format!("{error:#}"))?;
    if planned.is_empty() {
        return Err("it lists no instrumentation".to_owned());
    }
    let known: HashMap<&str, &Instrumentation> = base
        .instrumentations
        .iter()
        .map(|entry| (entry.name.as_ref(), entry))
        .collect();
    let mut entries = Vec::new();
    for entry in &planned {
        let requirement = PlainRequirement::parse(&entry.requirement)
            .map_err(|error| format!("`{}`: {error}", entry.requirement))?;
        let mut libraries: Vec<(PlainRequirement, &str)> = Vec::new();
        let mut seen = HashSet::new();
        for library in &entry.libraries {
            let parsed = PlainRequirement::parse(library)
                .map_err(|error| format!("library `{library}`: {error}"))?;
            if seen.insert(parsed.name.clone()) {
                libraries.push((parsed, library.as_str()));
            }
        }
        let (instruments, instruments_any) = if entry.kind == Kind::Default {
            (Vec::new(), Vec::new())
        } else if let Some(lists) = installed_metadata(&entry.name, &requirement) {
            lists
        } else {
            split(known.get(entry.name.as_str()).copied(), &libraries)
        };
        entries.push(InstrumentationDocument {
            name: entry.name.clone(),
            requirement: entry.requirement.clone(),
            kind: entry.kind,
            published: true,
            requires_python: None,
            instruments,
            instruments_any,
        });
    }
    let listed: HashSet<&str> = planned.iter().map(|entry| entry.name.as_str()).collect();
    for opt_in in base
        .instrumentations
        .iter()
        .filter(|entry| entry.kind == Kind::OptIn && !listed.contains(entry.name.as_ref()))
    {
        entries.push(re_pinned(opt_in, &base.raw_version, raw_installed));
    }
    Ok(document(base, raw_installed, entries))
}

/// The all-of / any-of split for a library instrumentation (rules 2 and 3).
fn split(
    known: Option<&Instrumentation>,
    libraries: &[(PlainRequirement, &str)],
) -> (Vec<String>, Vec<String>) {
    let text = |(_, raw): &(PlainRequirement, &str)| (*raw).to_owned();
    let Some(known) = known else {
        return (Vec::new(), libraries.iter().map(text).collect());
    };
    let in_all = |name: &crate::requirement::PackageName| {
        known
            .instruments
            .iter()
            .any(|requirement| &requirement.name == name)
    };
    let in_any = |name: &crate::requirement::PackageName| {
        known
            .instruments_any
            .iter()
            .any(|requirement| &requirement.name == name)
    };
    let everything_known = libraries
        .iter()
        .all(|(library, _)| in_all(&library.name) || in_any(&library.name));
    if everything_known || known.instruments.len() >= 2 {
        let (all, any): (Vec<_>, Vec<_>) = libraries
            .iter()
            .partition(|(library, _)| in_all(&library.name) || !in_any(&library.name));
        let all: Vec<String> = all.into_iter().map(text).collect();
        let any: Vec<String> = any.into_iter().map(text).collect();
        if !all.is_empty() || !any.is_empty() {
            return (all, any);
        }
    }
    (Vec::new(), libraries.iter().map(text).collect())
}

/// The newest known release, re-pinned to `raw_installed` (see the module documentation).
pub(crate) fn project(base: &Release, installed: &Version, raw_installed: &str) -> String {
    let _ = installed;
    let entries = base
        .instrumentations
        .iter()
        .map(|entry| re_pinned(entry, &base.raw_version, raw_installed))
        .collect();
    document(base, raw_installed, entries).to_json()
}

/// A known entry, with a `==<from>` pin moved to `==<to>`, marked published.
fn re_pinned(entry: &Instrumentation, from: &str, to: &str) -> InstrumentationDocument {
    let mut document = entry.to_document();
    if let Some(name) = entry.requirement.raw.strip_suffix(&format!("=={from}")) {
        if normalize(name.trim()) == entry.name.as_ref() {
            document.requirement = format!("{name}=={to}");
        }
    }
    document.published = true;
    document
}

/// The release `raw_installed`: the core of `base` (or the known core packages) at that
/// version, and `entries`.
fn document(
    base: &Release,
    raw_installed: &str,
    entries: Vec<InstrumentationDocument>,
) -> ReleaseDocument {
    let mut core: Vec<&str> = base
        .core
        .iter()
        .map(|package| package.name.as_ref())
        .collect();
    if core.is_empty() {
        core = CORE_PACKAGES.to_vec();
    }
    ReleaseDocument {
        schema: super::SCHEMA_VERSION,
        release: raw_installed.to_owned(),
        requires_python: None,
        core: core
            .into_iter()
            .map(|name| CoreDocument {
                name: name.to_owned(),
                version: raw_installed.to_owned(),
                published: true,
            })
            .collect(),
        instrumentations: entries,
        allow_other_names: false,
    }
}

/// The fuzz target: the reader, then a derivation against the newest bundled release.
pub(crate) fn fuzz(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let Ok(bootstrap) = parse_bootstrap_gen(&text) else {
        return;
    };
    // The newest bundled release, parsed once for every input.
    static BASE: std::sync::OnceLock<Option<Release>> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let registry = super::Registry::bundled();
        let newest = registry.newest_known()?.clone();
        registry.load(&newest).ok().cloned()
    });
    let Some(base) = base else {
        return;
    };
    let installed: Version = "99.0".parse().expect("a valid version");
    if let Ok(document) = derive(base, &installed, "99.0", &bootstrap, |_, _| None) {
        let _ = super::parse_release(&document.to_json(), "fuzz");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Release {
        let text = r#"{"schema": 1, "release": "0.66b1", "core": [{"name": "opentelemetry-instrumentation", "version": "0.66b1"}], "instrumentations": [
            {"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio==0.66b1", "kind": "default"},
            {"name": "opentelemetry-instrumentation-flask", "requirement": "opentelemetry-instrumentation-flask==0.66b1", "kind": "library", "instruments": ["flask>=1.0"]},
            {"name": "opentelemetry-instrumentation-tortoiseorm", "requirement": "opentelemetry-instrumentation-tortoiseorm==0.66b1", "kind": "library", "instruments": ["pydantic>=1.10.2", "tortoise-orm>=0.17.0"]},
            {"name": "opentelemetry-instrumentation-psycopg2", "requirement": "opentelemetry-instrumentation-psycopg2==0.66b1", "kind": "library", "instruments_any": ["psycopg2-binary>=2.7.3.1", "psycopg2>=2.7.3.1"]},
            {"name": "opentelemetry-instrumentation-redis", "requirement": "opentelemetry-instrumentation-redis==0.66b1", "kind": "library", "instruments": ["redis>=2.6"]},
            {"name": "opentelemetry-instrumentation-aws-lambda", "requirement": "opentelemetry-instrumentation-aws-lambda==0.66b1", "kind": "opt-in"}
        ]}"#;
        super::super::parse_release(text, "base.json").expect("valid")
    }

    const NEW_LIST: &str = r#"
libraries = [
    {"library": "flask >= 2.0", "instrumentation": "opentelemetry-instrumentation-flask==0.67b0"},
    {"library": "tortoise-orm >= 0.17.0", "instrumentation": "opentelemetry-instrumentation-tortoiseorm==0.67b0"},
    {"library": "pydantic >= 1.10.2", "instrumentation": "opentelemetry-instrumentation-tortoiseorm==0.67b0"},
    {"library": "psycopg2 >= 2.8", "instrumentation": "opentelemetry-instrumentation-psycopg2==0.67b0"},
    {"library": "psycopg2-binary >= 2.8", "instrumentation": "opentelemetry-instrumentation-psycopg2==0.67b0"},
    {"library": "newlib >= 1", "instrumentation": "opentelemetry-instrumentation-newlib==0.67b0"},
    {"library": "newlib-ng >= 1", "instrumentation": "opentelemetry-instrumentation-newlib==0.67b0"},
]
default_instrumentations = ["opentelemetry-instrumentation-asyncio==0.67b0"]
"#;

    fn derived(
        installed: impl Fn(&str, &PlainRequirement) -> Option<(Vec<String>, Vec<String>)>,
    ) -> Release {
        let bootstrap = parse_bootstrap_gen(NEW_LIST).expect("parses");
        let version: Version = "0.67b0".parse().expect("version");
        let json = derive(&base(), &version, "0.67b0", &bootstrap, installed)
            .expect("derives")
            .to_json();
        super::super::parse_release(&json, "derived").expect("valid")
    }

    fn lists(release: &Release, short: &str) -> (Vec<String>, Vec<String>) {
        let entry = release.find(short).expect("listed");
        let raw = |list: &[PlainRequirement]| list.iter().map(|r| r.raw.clone()).collect();
        (raw(&entry.instruments), raw(&entry.instruments_any))
    }

    #[test]
    fn keeps_known_semantics_with_the_new_ranges() {
        let release = derived(|_, _| None);
        assert_eq!(release.raw_version, "0.67b0");
        assert_eq!(
            lists(&release, "flask"),
            (vec!["flask >= 2.0".to_owned()], vec![])
        );
        assert_eq!(
            lists(&release, "tortoiseorm"),
            (
                vec![
                    "tortoise-orm >= 0.17.0".to_owned(),
                    "pydantic >= 1.10.2".to_owned()
                ],
                vec![]
            )
        );
        assert_eq!(
            lists(&release, "psycopg2"),
            (
                vec![],
                vec![
                    "psycopg2 >= 2.8".to_owned(),
                    "psycopg2-binary >= 2.8".to_owned()
                ]
            )
        );
        assert_eq!(
            lists(&release, "newlib"),
            (
                vec![],
                vec!["newlib >= 1".to_owned(), "newlib-ng >= 1".to_owned()]
            )
        );
        // Removed from the list: gone. Opt-ins: kept and re-pinned.
        assert!(release.find("redis").is_none());
        assert_eq!(
            release.find("aws-lambda").expect("opt-in").requirement.raw,
            "opentelemetry-instrumentation-aws-lambda==0.67b0"
        );
        assert!(!release.is_partial());
        assert_eq!(release.core[0].raw_version, "0.67b0");
    }

    #[test]
    fn installed_metadata_wins() {
        let release = derived(|name, _| {
            (name == "opentelemetry-instrumentation-newlib")
                .then(|| (vec!["newlib>=1".to_owned()], vec![]))
        });
        assert_eq!(
            lists(&release, "newlib"),
            (vec!["newlib>=1".to_owned()], vec![])
        );
    }

    #[test]
    fn a_new_library_joins_a_known_all_of_set() {
        let known = base();
        let tortoise = known.find("tortoiseorm").expect("known");
        let parse = |text: &'static str| (PlainRequirement::parse(text).expect("valid"), text);
        let (all, any) = split(
            Some(tortoise),
            &[
                parse("pydantic>=2"),
                parse("tortoise-orm>=1"),
                parse("extra-lib>=1"),
            ],
        );
        assert_eq!(all, ["pydantic>=2", "tortoise-orm>=1", "extra-lib>=1"]);
        assert!(any.is_empty());
        let flask = known.find("flask").expect("known");
        let (all, any) = split(Some(flask), &[parse("flask>=2"), parse("quart>=1")]);
        assert!(all.is_empty());
        assert_eq!(any, ["flask>=2", "quart>=1"]);
    }

    #[test]
    fn projection_moves_lock_step_pins_only() {
        let version: Version = "0.67b0".parse().expect("version");
        let json = project(&base(), &version, "0.67b0");
        let release = super::super::parse_release(&json, "projected").expect("valid");
        assert!(release
            .instrumentations
            .iter()
            .all(|entry| entry.requirement.raw.ends_with("==0.67b0")));
        assert_eq!(
            lists(&release, "flask"),
            (vec!["flask>=1.0".to_owned()], vec![])
        );
    }

    #[test]
    fn hostile_lists_are_errors() {
        let version: Version = "0.67b0".parse().expect("version");
        for source in [
            "libraries = [{'library': 'x @ file:///etc/passwd', 'instrumentation': 'opentelemetry-instrumentation-x==1'}]\ndefault_instrumentations = []\n",
            "libraries = [{'library': 'flask', 'instrumentation': 'x @ https://evil/x.whl'}]\ndefault_instrumentations = []\n",
            "libraries = []\ndefault_instrumentations = []\n",
        ] {
            let bootstrap = parse_bootstrap_gen(source).expect("a literal");
            assert!(
                derive(&base(), &version, "0.67b0", &bootstrap, |_, _| None).is_err(),
                "{source}"
            );
        }
    }
}
