//! One release, or every release from a minimum, fetched from a package index and
//! rendered as release documents in memory (nothing is written here):
//!
//! 1. each release's wheel's `opentelemetry/instrumentation/bootstrap_gen.py` is read and
//!    planned ([`super::wheel`]);
//! 2. the opt-in packages ([`OPT_IN_CANDIDATES`]) are added, sorted by name;
//! 3. each instrumentation's `instruments` / `instruments_any` come from the `METADATA` of
//!    the wheel that satisfies its requirement (see [`resolve`] for the rules, including
//!    releases whose instrumentations are not all published yet);
//! 4. the core packages get `published` from the index.
//!
//! Requests run in parallel. The batch `registry update` ([`super::generate`]) writes what
//! this renders; the index refresh ([`super::refresh`]) takes one release ([`render_one`]).

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::bootstrap_gen::parse_bootstrap_gen;
use super::document::{CoreDocument, InstrumentationDocument, ReleaseDocument};
use super::wheel::{
    parse_metadata, parse_requirement, plan_instrumentations, BootstrapEntry, WheelMetadata,
    BOOTSTRAP_GEN_PATH, CORE_PACKAGES,
};
use super::{Kind, INSTRUMENTATION_PROJECT};
use crate::index::{IndexClient, IndexFile};
use crate::requirement::{parse_version, Operator, Version, VersionSpecifiers};

/// Concurrent requests.
const PARALLELISM: usize = 16;

/// How an opt-in candidate is versioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    /// Released with every `opentelemetry-instrumentation` release, at the same version:
    /// included as `<name>==<release>` when that version is on the index.
    LockStep,
    /// Released on its own schedule: included when some version's `METADATA` accepts the
    /// release (its `Requires-Dist: opentelemetry-instrumentation …` contains the release
    /// version, or it has none). The requirement is the bare name when the newest such
    /// version is the newest version on the index, else `<name>==<that version>`.
    Independent,
}

/// Packages upstream publishes but leaves out of bootstrap on purpose (upstream's
/// `packages_to_exclude` in `scripts/generate_instrumentation_bootstrap.py`, over its
/// history). A candidate already in a release's bootstrap list is not repeated.
///
/// Left out on purpose: `langchain`, `weaviate`, `anthropic` and `claude-agent-sdk` were
/// excluded upstream too, but upstream never published them; the projects of those names
/// on PyPI belong to another vendor. `vertexai` was excluded for a week in 2025; on PyPI
/// its old versions also belong to another vendor, and upstream's own are in bootstrap.
pub(crate) const OPT_IN_CANDIDATES: &[(&str, Versioning)] = &[
    // Needs Lambda-specific set-up (upstream issue #2787).
    (
        "opentelemetry-instrumentation-aws-lambda",
        Versioning::LockStep,
    ),
    // Early-development GenAI instrumentations.
    (
        "opentelemetry-instrumentation-google-genai",
        Versioning::Independent,
    ),
    (
        "opentelemetry-instrumentation-openai-agents-v2",
        Versioning::Independent,
    ),
];

/// Which releases to generate.
#[derive(Clone, Copy)]
pub(super) enum Selection<'a> {
    /// Every release at or above this one.
    From(&'a Version),
    /// Exactly this release.
    Only(&'a Version),
}

pub(super) fn render(
    client: &IndexClient,
    selection: Selection<'_>,
    progress: &Progress,
) -> anyhow::Result<Vec<RenderedRelease>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLELISM)
        .build()
        .context("could not start the download threads")?;
    pool.install(|| build_releases(client, selection, progress))
}

/// The release document of exactly `release`, from the index `client` reads (the index
/// refresh: see [`super::refresh`]).
pub(crate) fn render_one(client: &IndexClient, release: &Version) -> anyhow::Result<String> {
    let rendered = render(client, Selection::Only(release), &Progress::new(false))?;
    rendered
        .into_iter()
        .next()
        .map(|rendered| rendered.json)
        .ok_or_else(|| anyhow::anyhow!("internal: no release rendered"))
}

/// A release, ready to write.
pub(super) struct RenderedRelease {
    pub(super) release: String,
    pub(super) json: String,
    pub(super) partial: bool,
}

/// A project's page, parsed: usable files with their versions, newest first.
#[derive(Default)]
struct Project {
    files: Vec<(Version, IndexFile)>,
}

impl Project {
    fn new(files: Vec<IndexFile>) -> Self {
        let mut files: Vec<(Version, IndexFile)> = files
            .into_iter()
            .filter_map(|file| Some((parse_version(file.version_text()?)?, file)))
            .collect();
        // Newest first; for a version, `py3-none-any` wheels first.
        files.sort_by(|(left, left_file), (right, right_file)| {
            right
                .cmp(left)
                .then_with(|| wheel_rank(left_file).cmp(&wheel_rank(right_file)))
        });
        Self { files }
    }

    /// Whether a non-yanked file of exactly `version` exists.
    fn has_version(&self, version: &Version) -> bool {
        self.files
            .iter()
            .any(|(candidate, file)| candidate == version && !file.yanked)
    }

    /// The best non-yanked wheel of each version, newest first.
    fn wheels(&self) -> Vec<(&Version, &IndexFile)> {
        let mut wheels: Vec<(&Version, &IndexFile)> = Vec::new();
        for (version, file) in &self.files {
            if file.is_wheel()
                && !file.yanked
                && wheels.last().is_none_or(|(last, _)| *last != version)
            {
                wheels.push((version, file));
            }
        }
        wheels
    }
}

/// Sort key preferring universal wheels.
fn wheel_rank(file: &IndexFile) -> u8 {
    if file.filename.ends_with("-py3-none-any.whl") {
        0
    } else if file.is_wheel() {
        1
    } else {
        2
    }
}

/// The client, with the metadata fetched so far (by URL).
struct Fetcher<'a> {
    client: &'a IndexClient,
    metadata: Mutex<HashMap<String, Arc<WheelMetadata>>>,
}

impl Fetcher<'_> {
    fn metadata(&self, file: &IndexFile) -> anyhow::Result<Arc<WheelMetadata>> {
        if let Some(found) = self
            .metadata
            .lock()
            .ok()
            .and_then(|cache| cache.get(&file.url).cloned())
        {
            return Ok(found);
        }
        let text = self.client.wheel_metadata(file)?;
        let parsed = Arc::new(parse_metadata(&text));
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(file.url.clone(), Arc::clone(&parsed));
        }
        Ok(parsed)
    }
}

fn build_releases(
    client: &IndexClient,
    selection: Selection<'_>,
    progress: &Progress,
) -> anyhow::Result<Vec<RenderedRelease>> {
    let fetcher = Fetcher {
        client,
        metadata: Mutex::new(HashMap::new()),
    };

    progress.phase("listing releases", 1);
    let instrumentation = Project::new(client.project_files(INSTRUMENTATION_PROJECT)?);
    progress.advance();
    let mut releases: Vec<(&Version, &IndexFile)> = instrumentation
        .files
        .iter()
        .filter(|(version, file)| {
            (match selection {
                Selection::From(minimum) => *version >= *minimum,
                Selection::Only(only) => *version == *only,
            }) && !file.yanked
                && file.filename.ends_with("-py3-none-any.whl")
        })
        .map(|(version, file)| (version, file))
        .collect();
    releases.reverse();
    releases.dedup_by(|(left, _), (right, _)| left == right);
    if releases.is_empty() {
        match selection {
            Selection::From(minimum) => bail!(
                "no {INSTRUMENTATION_PROJECT} release at or above {minimum} on {}",
                client.index_url()
            ),
            Selection::Only(only) => bail!(
                "{INSTRUMENTATION_PROJECT} {only} is not on {} (no universal wheel of it)",
                client.index_url()
            ),
        }
    }

    progress.phase("reading bootstrap lists", releases.len());
    let bootstraps: Vec<(Version, Vec<BootstrapEntry>, Option<String>)> = releases
        .par_iter()
        .map(|(version, file)| {
            let wheel = client.download_file(file)?;
            let source = read_bootstrap_gen(&wheel).with_context(|| {
                format!(
                    "could not read {BOOTSTRAP_GEN_PATH} from {}",
                    crate::index::redact_url(&file.url)
                )
            })?;
            let bootstrap = parse_bootstrap_gen(&source)
                .map_err(anyhow::Error::msg)
                .with_context(|| {
                    format!(
                    "could not parse {BOOTSTRAP_GEN_PATH} of {INSTRUMENTATION_PROJECT} {version}"
                )
                })?;
            let planned = plan_instrumentations(&bootstrap).with_context(|| {
                format!("in {BOOTSTRAP_GEN_PATH} of {INSTRUMENTATION_PROJECT} {version}")
            })?;
            // The release's `Requires-Python`: its `opentelemetry-instrumentation` wheel's.
            let requires_python = fetcher.metadata(file)?.requires_python.clone();
            progress.advance();
            Ok(((*version).clone(), planned, requires_python))
        })
        .collect::<anyhow::Result<_>>()?;

    let mut names: Vec<String> = CORE_PACKAGES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    names.extend(OPT_IN_CANDIDATES.iter().map(|(name, _)| (*name).to_owned()));
    for (_, planned, _) in &bootstraps {
        names.extend(planned.iter().map(|entry| entry.name.clone()));
    }
    let mut seen = HashSet::new();
    names.retain(|name| seen.insert(name.clone()));

    progress.phase("listing instrumentations", names.len());
    let projects: HashMap<String, Project> = names
        .par_iter()
        .map(|name| {
            let project = if name == INSTRUMENTATION_PROJECT {
                Project::default()
            } else {
                Project::new(client.project_files(name)?)
            };
            progress.advance();
            Ok((name.clone(), project))
        })
        .collect::<anyhow::Result<_>>()?;
    static NO_FILES: Project = Project { files: Vec::new() };
    let project = |name: &str| -> &Project {
        if name == INSTRUMENTATION_PROJECT {
            &instrumentation
        } else {
            projects.get(name).unwrap_or(&NO_FILES)
        }
    };

    let total = bootstraps
        .iter()
        .map(|(_, planned, _)| planned.len())
        .sum::<usize>()
        + bootstraps.len() * OPT_IN_CANDIDATES.len();
    progress.phase("reading instrumentation metadata", total);
    bootstraps
        .par_iter()
        .map(|(release, planned, requires_python)| {
            let mut entries: Vec<BootstrapEntry> = planned.clone();
            let present: HashSet<String> = entries.iter().map(|entry| entry.name.clone()).collect();
            let mut opt_ins = Vec::new();
            for (name, versioning) in OPT_IN_CANDIDATES {
                if !present.contains(*name) {
                    if let Some(requirement) =
                        opt_in_requirement(&fetcher, name, *versioning, project(name), release)?
                    {
                        opt_ins.push(BootstrapEntry {
                            name: (*name).to_owned(),
                            requirement,
                            kind: Kind::OptIn,
                            libraries: Vec::new(),
                        });
                    }
                }
                progress.advance();
            }
            opt_ins.sort_by(|left, right| left.name.cmp(&right.name));
            entries.extend(opt_ins);

            let resolved = entries
                .par_iter()
                .map(|entry| {
                    let resolved = resolve(&fetcher, entry, project(&entry.name), release);
                    progress.advance();
                    resolved
                })
                .collect::<anyhow::Result<Vec<Resolved>>>()?;
            let core: Vec<(&str, bool)> = CORE_PACKAGES
                .iter()
                .map(|name| (*name, project(name).has_version(release)))
                .collect();
            let release_text = release.to_string();
            Ok(RenderedRelease {
                json: render_release(&release_text, requires_python.as_deref(), &core, &resolved),
                partial: resolved
                    .iter()
                    .any(|entry| !entry.published && entry.planned.kind != Kind::OptIn),
                release: release_text,
            })
        })
        .collect()
}

/// The requirement of an opt-in candidate for `release`, if it applies (see
/// [`Versioning`]).
fn opt_in_requirement(
    fetcher: &Fetcher<'_>,
    name: &str,
    versioning: Versioning,
    project: &Project,
    release: &Version,
) -> anyhow::Result<Option<String>> {
    match versioning {
        Versioning::LockStep => Ok(project
            .wheels()
            .iter()
            .any(|(version, _)| *version == release)
            .then(|| format!("{name}=={release}"))),
        Versioning::Independent => {
            let candidates = matching_wheels(project, None);
            for (index, (version, file)) in candidates.iter().enumerate() {
                if fetcher.metadata(file)?.accepts(release) {
                    return Ok(Some(if index == 0 {
                        name.to_owned()
                    } else {
                        format!("{name}=={version}")
                    }));
                }
            }
            Ok(None)
        }
    }
}

/// An instrumentation with its instruments.
struct Resolved {
    planned: BootstrapEntry,
    published: bool,
    instruments: Vec<String>,
    instruments_any: Vec<String>,
    /// The `Requires-Python` of the wheel read (`None` when none was published).
    requires_python: Option<String>,
}

/// Finds the wheel for an instrumentation and reads its instruments.
///
/// - Published: the newest non-yanked wheel satisfying the requirement (pre-releases
///   only when a specifier names one, or when nothing else satisfies it), preferring,
///   for requirements other than an exact pin, the newest whose `METADATA` accepts the
///   release.
/// - Not published, `==X`: instruments from the newest wheel older than `X` (the
///   lock-step packages of a release that is still being uploaded); `published: false`.
/// - Otherwise, nothing to read: upstream's `library` strings for it become
///   `instruments_any` (upstream recommends it when any of them is installed).
fn resolve(
    fetcher: &Fetcher<'_>,
    planned: &BootstrapEntry,
    project: &Project,
    release: &Version,
) -> anyhow::Result<Resolved> {
    let (_, specifiers) = parse_requirement(&planned.requirement)?;
    let candidates = matching_wheels(project, specifiers.as_ref());
    let exact_pin = specifiers
        .as_ref()
        .and_then(|specifiers| match &specifiers[..] {
            [only] if *only.operator() == Operator::Equal => Some(only.version().clone()),
            _ => None,
        });

    let mut source = None;
    if exact_pin.is_some() {
        source = candidates.first().map(|(_, file)| *file);
    } else {
        for (_, file) in &candidates {
            if fetcher.metadata(file)?.accepts(release) {
                source = Some(*file);
                break;
            }
        }
        source = source.or_else(|| candidates.first().map(|(_, file)| *file));
    }
    let published = source.is_some();
    if let (None, Some(pinned)) = (source, &exact_pin) {
        source = project
            .wheels()
            .into_iter()
            .find(|(version, _)| *version < pinned)
            .map(|(_, file)| file);
    }

    let (instruments, instruments_any, requires_python) = match source {
        Some(file) => {
            let metadata = fetcher.metadata(file)?;
            (
                metadata.instruments.clone(),
                metadata.instruments_any.clone(),
                // An older wheel standing in for an unpublished pin says nothing of it.
                metadata.requires_python.clone().filter(|_| published),
            )
        }
        None => {
            let mut libraries = planned.libraries.clone();
            libraries.sort();
            libraries.dedup();
            (Vec::new(), libraries, None)
        }
    };
    Ok(Resolved {
        planned: planned.clone(),
        published,
        instruments,
        instruments_any,
        requires_python,
    })
}

/// Non-yanked wheels satisfying `specifiers` (any version when `None`), newest first.
/// Pre-releases count when a specifier names one, or when no final release matches.
fn matching_wheels<'a>(
    project: &'a Project,
    specifiers: Option<&VersionSpecifiers>,
) -> Vec<(&'a Version, &'a IndexFile)> {
    let matching: Vec<(&Version, &IndexFile)> = project
        .wheels()
        .into_iter()
        .filter(|(version, _)| specifiers.is_none_or(|specifiers| specifiers.contains(version)))
        .collect();
    let allows_prereleases = specifiers.is_some_and(|specifiers| {
        specifiers
            .iter()
            .any(|specifier| specifier.version().any_prerelease())
    });
    if allows_prereleases || matching.iter().all(|(version, _)| version.any_prerelease()) {
        return matching;
    }
    matching
        .into_iter()
        .filter(|(version, _)| !version.any_prerelease())
        .collect()
}

fn read_bootstrap_gen(wheel: &[u8]) -> anyhow::Result<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel))
        .context("not a valid wheel (zip) file")?;
    let contents = crate::index::read_wheel_file(&mut archive, BOOTSTRAP_GEN_PATH)
        .map_err(anyhow::Error::msg)?;
    String::from_utf8(contents).context("not UTF-8")
}

/// The release file of a release, in the documented layout (see `data/README.md`).
/// `requires_python` is the release's (its `opentelemetry-instrumentation` wheel's); an
/// instrumentation's own is written only where it differs.
fn render_release(
    release: &str,
    requires_python: Option<&str>,
    core: &[(&str, bool)],
    instrumentations: &[Resolved],
) -> String {
    let document = ReleaseDocument {
        schema: super::SCHEMA_VERSION,
        release: release.to_owned(),
        requires_python: requires_python.map(str::to_owned),
        core: core
            .iter()
            .map(|(name, published)| CoreDocument {
                name: (*name).to_owned(),
                version: release.to_owned(),
                published: *published,
            })
            .collect(),
        instrumentations: instrumentations
            .iter()
            .map(|entry| InstrumentationDocument {
                name: entry.planned.name.clone(),
                requirement: entry.planned.requirement.clone(),
                kind: entry.planned.kind,
                published: entry.published,
                requires_python: match (&entry.requires_python, requires_python) {
                    (Some(own), Some(release)) if same_range(own, release) => None,
                    (own, _) => own.clone(),
                },
                instruments: entry.instruments.clone(),
                instruments_any: entry.instruments_any.clone(),
            })
            .collect(),
        allow_other_names: false,
    };
    document.to_json()
}

/// Whether two `Requires-Python` ranges say the same (`>=3.9` and `>= 3.9`).
fn same_range(left: &str, right: &str) -> bool {
    let parse = crate::requirement::parse_specifiers;
    match (parse(left), parse(right)) {
        (Some(left), Some(right)) => left == right,
        _ => left.trim() == right.trim(),
    }
}

/// An optional progress bar on stderr.
pub(super) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(super) fn new(enabled: bool) -> Self {
        let bar = if enabled && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {msg:32} [{bar:30}] {pos}/{len} {elapsed}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    fn phase(&self, message: &'static str, length: usize) {
        self.bar.set_message(message);
        self.bar.set_length(length as u64);
        self.bar.set_position(0);
    }

    fn advance(&self) {
        self.bar.inc(1);
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_documented_layout() {
        let resolved = Resolved {
            planned: BootstrapEntry {
                name: "opentelemetry-instrumentation-tortoiseorm".to_owned(),
                requirement: "opentelemetry-instrumentation-tortoiseorm==0.66b1".to_owned(),
                kind: Kind::Library,
                libraries: Vec::new(),
            },
            published: true,
            instruments: vec![
                "pydantic>=1.10.2".to_owned(),
                "tortoise-orm>=0.17.0".to_owned(),
            ],
            instruments_any: Vec::new(),
            requires_python: Some(">=3.9".to_owned()),
        };
        let same = Resolved {
            planned: BootstrapEntry {
                name: "opentelemetry-instrumentation-asyncio".to_owned(),
                requirement: "opentelemetry-instrumentation-asyncio==0.66b1".to_owned(),
                kind: Kind::Default,
                libraries: Vec::new(),
            },
            published: true,
            instruments: Vec::new(),
            instruments_any: Vec::new(),
            requires_python: Some(">= 3.10".to_owned()),
        };
        let json = render_release(
            "0.66b1",
            Some(">=3.10"),
            &[("opentelemetry-instrumentation", true)],
            &[resolved, same],
        );
        assert_eq!(
            json,
            r#"{
  "schema": 1,
  "release": "0.66b1",
  "requires_python": ">=3.10",
  "core": [
    { "name": "opentelemetry-instrumentation", "version": "0.66b1", "published": true }
  ],
  "instrumentations": [
    {
      "name": "opentelemetry-instrumentation-tortoiseorm",
      "requirement": "opentelemetry-instrumentation-tortoiseorm==0.66b1",
      "kind": "library",
      "published": true,
      "requires_python": ">=3.9",
      "instruments": ["pydantic>=1.10.2", "tortoise-orm>=0.17.0"],
      "instruments_any": []
    },
    {
      "name": "opentelemetry-instrumentation-asyncio",
      "requirement": "opentelemetry-instrumentation-asyncio==0.66b1",
      "kind": "default",
      "published": true,
      "instruments": [],
      "instruments_any": []
    }
  ]
}
"#
        );
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(value["instrumentations"][0]["kind"], "library");
    }

    #[test]
    fn prefers_final_releases_unless_asked() {
        let file = |name: &str| IndexFile {
            filename: name.to_owned(),
            url: format!("https://files.example/{name}"),
            yanked: false,
            core_metadata: false,
            sha256: None,
            metadata_sha256: None,
        };
        let project = Project::new(vec![
            file("demo-1.0-py3-none-any.whl"),
            file("demo-2.0b1-py3-none-any.whl"),
            file("demo-1.5.tar.gz"),
        ]);
        let versions = |specifiers: Option<&str>| -> Vec<String> {
            let specifiers =
                specifiers.map(|text| crate::requirement::parse_specifiers(text).expect("valid"));
            matching_wheels(&project, specifiers.as_ref())
                .into_iter()
                .map(|(version, _)| version.to_string())
                .collect()
        };
        assert_eq!(versions(None), ["1.0"]);
        assert_eq!(versions(Some(">=2.0b0")), ["2.0b1"]);
        assert_eq!(versions(Some(">=1.1")), ["2.0b1"]);
        assert!(project.has_version(&parse_version("1.5").expect("version")));
    }
}
