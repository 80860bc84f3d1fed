//! The load check: every installed `opentelemetry_instrumentor` entry point loaded in the
//! environment's interpreter, in one bounded run (the one interpreter runner,
//! [`crate::interpreter::run::run_script`]). Loading imports the instrumentation's module (and
//! whatever it imports: often the instrumented library) as `opentelemetry-instrument`
//! does at start-up; nothing is instrumented (`instrument()` is never called). A failure
//! here is an instrumentation `opentelemetry-instrument` would skip silently.
//!
//! Starting Python and importing every instrumentor costs about 100 ms, most of a
//! `--check`. The result is remembered (under `<cache>/load-checks-v1/`, through the
//! interpreter cache's reader and writer) for as long as the environment is unchanged:
//! the key is the interpreter's (see [`crate::interpreter::Key`]) plus the modification
//! time of each site-packages directory on its `sys.path`. Installing, upgrading or
//! removing a distribution adds or removes a `*.dist-info` entry there, which changes
//! that time. A directory changed within the last [`SETTLE`] is not trusted to have
//! settled (a file system's clock may be coarse), so no result is remembered for it.
//! `OTEL_BOOTSTRAP_NO_CACHE` turns the cache off.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Loads each entry point and prints one JSON document on the real stdout (what the
/// modules print while loading goes to stderr). The first distribution of a name on
/// `sys.path` wins, as `importlib.metadata` finds it.
const LOAD_SCRIPT: &str = r#"
import json, sys
real_stdout = sys.stdout
sys.stdout = sys.stderr
from importlib import metadata
seen = set()
results = []
for dist in metadata.distributions():
    try:
        name = dist.metadata["Name"] or ""
    except Exception:
        continue
    key = name.lower().replace("_", "-").replace(".", "-")
    if not key or key in seen:
        continue
    seen.add(key)
    try:
        entry_points = [ep for ep in dist.entry_points if ep.group == "opentelemetry_instrumentor"]
    except Exception:
        continue
    for ep in entry_points:
        error = None
        try:
            ep.load()
        except BaseException as exc:
            error = "%s: %s" % (type(exc).__name__, exc)
            cause = exc.__cause__ or exc.__context__
            if cause is not None:
                error += " (caused by %s: %s)" % (type(cause).__name__, cause)
        results.append({"distribution": name, "version": dist.version, "entry_point": ep.name, "value": ep.value, "error": error})
real_stdout.write(json.dumps({"results": results}) + "\n")
real_stdout.flush()
"#;

/// One entry point that did not load.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub(crate) struct LoadFailure {
    /// The distribution's name as its metadata spells it.
    pub(crate) distribution: String,
    pub(crate) version: String,
    /// The entry point's name and value (`openai = opentelemetry.instrumentation…`).
    pub(crate) entry_point: String,
    pub(crate) value: String,
    /// `ModuleNotFoundError: No module named 'httpx'`.
    pub(crate) error: String,
}

/// What the run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub(crate) struct LoadReport {
    /// How many entry points loaded.
    pub(crate) loaded: usize,
    pub(crate) failures: Vec<LoadFailure>,
    /// Whether this is a remembered result (the environment has not changed since).
    #[serde(skip)]
    pub(crate) remembered: bool,
}

/// The cache layout's version: bump it when [`LoadReport`] or the script changes.
const CACHE_LAYOUT: &str = "load-checks-v1";
/// How long a site-packages directory must have been unchanged for a result to be kept.
const SETTLE: Duration = Duration::from_secs(2);

/// What a remembered result is valid for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
struct Key {
    interpreter: crate::interpreter::Key,
    /// Each site-packages directory on the interpreter's `sys.path`, with its
    /// modification time.
    site_packages: Vec<(PathBuf, Option<u128>)>,
}

impl Key {
    /// `None` when there is nothing to key on or a directory changed within [`SETTLE`].
    fn of(interpreter: &Path) -> Option<Self> {
        let probe = crate::interpreter::probe(interpreter).ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let mut site_packages = Vec::with_capacity(probe.site_packages.len());
        for directory in probe.site_packages {
            let modified = std::fs::metadata(&directory)
                .ok()
                .and_then(|metadata| crate::interpreter::modified_ns(&metadata));
            if modified.is_some_and(|modified| now.saturating_sub(modified) < SETTLE.as_nanos()) {
                return None;
            }
            site_packages.push((directory, modified));
        }
        Some(Self {
            interpreter: crate::interpreter::Key::of(interpreter)?,
            site_packages,
        })
    }
}

#[derive(Deserialize)]
struct RawDocument {
    results: Vec<RawResult>,
}

#[derive(Deserialize)]
struct RawResult {
    distribution: String,
    version: String,
    entry_point: String,
    value: String,
    error: Option<String>,
}

/// Loads every installed instrumentor with `interpreter`, or gives the result remembered
/// for the environment as it is (see the module documentation); `Err` says why the run
/// itself failed (no answer within the bound, no document).
pub(crate) fn load_instrumentors(interpreter: &Path) -> Result<LoadReport, String> {
    let cache = crate::interpreter::cache_directory(CACHE_LAYOUT);
    let key = cache.as_ref().and_then(|_| Key::of(interpreter));
    let name = crate::interpreter::entry_name(interpreter);
    if let (Some(directory), Some(key)) = (&cache, &key) {
        if let Some(mut report) =
            crate::interpreter::read_entry::<_, LoadReport>(directory, &name, key)
        {
            report.remembered = true;
            return Ok(report);
        }
    }
    let report = run(interpreter)?;
    if let (Some(directory), Some(key)) = (&cache, &key) {
        crate::interpreter::write_entry(directory, &name, key, &report);
    }
    Ok(report)
}

/// Runs the script.
fn run(interpreter: &Path) -> Result<LoadReport, String> {
    let output = crate::interpreter::run::run_script(interpreter, &["-I", "-c", LOAD_SCRIPT])?;
    if !output.status.success() {
        let last = crate::interpreter::last_line(&output.stderr).unwrap_or_default();
        return Err(format!("{}: {last}", output.status));
    }
    let line = crate::interpreter::last_line(&output.stdout)
        .ok_or_else(|| "it printed nothing".to_owned())?;
    parse(line)
}

fn parse(line: &str) -> Result<LoadReport, String> {
    let document: RawDocument =
        serde_json::from_str(line).map_err(|error| format!("unexpected output: {error}"))?;
    let mut report = LoadReport::default();
    for result in document.results {
        match result.error {
            None => report.loaded += 1,
            Some(error) => report.failures.push(LoadFailure {
                distribution: result.distribution,
                version: result.version,
                entry_point: result.entry_point,
                value: result.value,
                error: crate::redact::redact(&error).into_owned(),
            }),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_document() {
        let line = r#"{"results": [{"distribution": "opentelemetry-instrumentation-openai-v2", "version": "2.4b0", "entry_point": "openai", "value": "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor", "error": "ModuleNotFoundError: No module named 'httpx'"}, {"distribution": "x", "version": "1", "entry_point": "x", "value": "x:X", "error": null}]}"#;
        let report = parse(line).unwrap();
        assert_eq!(report.loaded, 1);
        assert_eq!(report.failures.len(), 1);
        assert_eq!(report.failures[0].version, "2.4b0");
        assert!(parse("not json").is_err());
    }
}
