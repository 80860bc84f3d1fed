//! The one model of a Python interpreter: what it says about itself (version, prefix,
//! site-packages, PEP 508 marker values), asked at most once per run and remembered across
//! runs.
//!
//! One script answers everything the jobs need ([`PROBE_SCRIPT`]). The answer is kept in
//! memory for the rest of the run and on disk under `<cache>/interpreters-v2/`, keyed by the
//! interpreter's path, the size and modification time of the file it resolves to, and the
//! modification time of the `pyvenv.cfg` of the venv it sits in (as uv keys its
//! interpreter cache). A second run against the same interpreter starts no Python. Entries
//! are read and written through `untrusted` (regular files only, bounded; a new random
//! file renamed into place): one that does not match its key, is not a regular file, is
//! too large or does not parse is ignored and replaced; a cache that cannot be written is
//! no error.

pub(crate) mod run;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::UNIX_EPOCH;

use crate::lockfile::marker::MarkerValues;

/// Run with `python -I -c`: prints one JSON line describing the interpreter. `-I`
/// (isolated) ignores `PYTHON*` variables and the user site; `-S` is deliberately not used
/// because it would hide site-packages. `platform` is imported only where `os.uname()`
/// cannot answer (macOS, Windows): it costs more than the rest of the start-up.
const PROBE_SCRIPT: &str = r#"import json, os, sys
def version(info):
    text = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text
if os.name == "posix" and hasattr(os, "uname") and sys.platform != "darwin":
    u = os.uname()
    machine, release, system, kernel = u.machine, u.release, u.sysname, u.version
else:
    import platform
    machine, release = platform.machine(), platform.release()
    system, kernel = platform.system(), platform.version()
names = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython", "jython": "Jython"}
print(json.dumps({
    "version": "%d.%d" % sys.version_info[:2],
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "executable": sys.executable,
    "site_packages": [p for p in sys.path
                      if os.path.basename(p) in ("site-packages", "dist-packages")
                      and os.path.isdir(p)],
    "markers": {
        "implementation_name": sys.implementation.name,
        "implementation_version": version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": machine,
        "platform_python_implementation": names.get(sys.implementation.name, sys.implementation.name),
        "platform_release": release,
        "platform_system": system,
        "platform_version": kernel,
        "python_full_version": sys.version.split()[0],
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    },
}))
"#;

/// The cache layout's version: bump it when [`Probe`] or the script changes.
const CACHE_LAYOUT: &str = "interpreters-v2";

/// What an interpreter says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub(crate) struct Probe {
    /// `major.minor`, e.g. `3.12`.
    pub(crate) version: String,
    /// `sys.prefix`.
    pub(crate) prefix: PathBuf,
    /// `sys.base_prefix` (equal to `prefix` outside a venv).
    pub(crate) base_prefix: PathBuf,
    /// `sys.executable`.
    #[serde(default)]
    pub(crate) executable: PathBuf,
    /// The `site-packages` / `dist-packages` directories on `sys.path`, in order.
    pub(crate) site_packages: Vec<PathBuf>,
    /// The PEP 508 marker values (`None` from an interpreter that did not report them,
    /// which only a stand-in does).
    #[serde(default)]
    pub(crate) markers: Option<MarkerValues>,
}

/// Why an interpreter could not be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProbeError {
    /// It could not be run, timed out, printed too much or exited with an error.
    Failed(String),
    /// It ran but its answer was not what the script prints.
    Output(String),
}

/// The key a cached answer is valid for: the interpreter's path, the size and
/// modification time of the file it resolves to, and those of its venv's `pyvenv.cfg`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub(crate) struct Key {
    path: PathBuf,
    size: u64,
    modified_ns: u128,
    pyvenv_cfg_modified_ns: Option<u128>,
}

impl Key {
    /// `None` when the interpreter's file cannot be read (the run then reports why).
    pub(crate) fn of(interpreter: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(interpreter).ok()?;
        let modified = modified_ns;
        let pyvenv_cfg_modified_ns = interpreter
            .parent()
            .and_then(Path::parent)
            .and_then(|prefix| std::fs::metadata(prefix.join("pyvenv.cfg")).ok())
            .and_then(|metadata| modified(&metadata));
        Some(Self {
            path: interpreter.to_owned(),
            size: metadata.len(),
            modified_ns: modified(&metadata)?,
            pyvenv_cfg_modified_ns,
        })
    }

    /// The entry's file name: see [`entry_name`].
    pub(crate) fn file_name(&self) -> String {
        entry_name(&self.path)
    }
}

/// A file's or directory's modification time in nanoseconds since the epoch.
pub(crate) fn modified_ns(metadata: &std::fs::Metadata) -> Option<u128> {
    metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|duration| duration.as_nanos())
}

/// A cache entry's file name for `path`: the SHA-256 of the path, so any path maps to a
/// plain name.
pub(crate) fn entry_name(path: &Path) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, path.as_os_str().as_encoded_bytes());
    let mut name = String::with_capacity(69);
    for byte in &digest.as_ref()[..16] {
        name.push_str(&format!("{byte:02x}"));
    }
    name.push_str(".json");
    name
}

/// A cache entry as written: the key it is valid for and the answer.
#[derive(serde::Deserialize, serde::Serialize)]
struct Entry<K, V> {
    key: K,
    answer: V,
}

/// The answers of this run, by key.
fn memory() -> &'static Mutex<HashMap<Key, Probe>> {
    static MEMORY: OnceLock<Mutex<HashMap<Key, Probe>>> = OnceLock::new();
    MEMORY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The directory of the cache `layout` (a name with its version, `interpreters-v2`),
/// unless caching is off (`OTEL_BOOTSTRAP_NO_CACHE` set to anything but empty or `0`).
pub(crate) fn cache_directory(layout: &str) -> Option<PathBuf> {
    let off = std::env::var_os("OTEL_BOOTSTRAP_NO_CACHE")
        .is_some_and(|value| !value.is_empty() && value != "0");
    if off {
        return None;
    }
    Some(crate::index::default_cache_dir()?.join(layout))
}

/// What `interpreter` says about itself: from this run's memory, the cache, or by running
/// it once (never through a shell, with the one runner's deadline and output cap).
pub(crate) fn probe(interpreter: &Path) -> Result<Probe, ProbeError> {
    let key = Key::of(interpreter);
    if let Some(key) = &key {
        if let Some(found) = memory().lock().ok().and_then(|map| map.get(key).cloned()) {
            return Ok(found);
        }
        if let Some(found) = cache_directory(CACHE_LAYOUT)
            .and_then(|directory| read_entry(&directory, &key.file_name(), key))
        {
            remember(key, &found);
            return Ok(found);
        }
    }
    let answer = run_probe(interpreter)?;
    if let Some(key) = &key {
        remember(key, &answer);
        if let Some(directory) = cache_directory(CACHE_LAYOUT) {
            write_entry(&directory, &key.file_name(), key, &answer);
        }
    }
    Ok(answer)
}

fn remember(key: &Key, probe: &Probe) {
    if let Ok(mut map) = memory().lock() {
        map.insert(key.clone(), probe.clone());
    }
}

/// Runs the script and parses its last line (a `sitecustomize` may print before it).
fn run_probe(interpreter: &Path) -> Result<Probe, ProbeError> {
    let output =
        run::run_script(interpreter, &["-I", "-c", PROBE_SCRIPT]).map_err(ProbeError::Failed)?;
    if !output.status.success() {
        let reason = match last_line(&output.stderr) {
            Some(line) => format!("{}: {line}", output.status),
            None => output.status.to_string(),
        };
        return Err(ProbeError::Failed(reason));
    }
    let line = last_line(&output.stdout).ok_or_else(|| ProbeError::Output("nothing".into()))?;
    let mut probe: Probe =
        serde_json::from_str(line).map_err(|error| ProbeError::Output(error.to_string()))?;
    probe.version = major_minor(&probe.version).ok_or_else(|| {
        ProbeError::Output(format!("`{}` is not a Python version", probe.version))
    })?;
    Ok(probe)
}

/// `3.11.7`, `3.11.7.final.0` or `3.13t` → `3.11` / `3.13`; `None` for anything else.
pub(crate) fn major_minor(version: &str) -> Option<String> {
    let mut parts = version.trim().trim_end_matches('t').split('.');
    let is_number =
        |part: &&str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let major = parts.next().filter(is_number)?;
    let minor = parts.next().filter(is_number)?;
    Some(format!("{major}.{minor}"))
}

/// The last non-empty line of `text`, trimmed (a `sitecustomize` may print before a
/// script's answer).
pub(crate) fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty())
}

/// The answer cached in `directory/name`, when there is one and it is valid for `key`
/// (read through the one hardened reader: a regular file, bounded). The interpreter
/// probes and the load check's results are kept this way.
pub(crate) fn read_entry<K, V>(directory: &Path, name: &str, key: &K) -> Option<V>
where
    K: serde::de::DeserializeOwned + PartialEq,
    V: serde::de::DeserializeOwned,
{
    let text =
        crate::untrusted::read_text(&directory.join(name), crate::untrusted::FileKind::Cache)
            .ok()?;
    let entry: Entry<K, V> = serde_json::from_str(&text).ok()?;
    (entry.key == *key).then_some(entry.answer)
}

/// Writes an entry through the one atomic writer; any failure leaves the cache as it
/// was.
pub(crate) fn write_entry<K, V>(directory: &Path, name: &str, key: &K, answer: &V)
where
    K: serde::Serialize,
    V: serde::Serialize,
{
    if let Ok(text) = serde_json::to_vec(&Entry { key, answer }) {
        let _ = crate::untrusted::write_atomically(&directory.join(name), &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_cut_to_major_minor() {
        assert_eq!(major_minor("3.12.4").as_deref(), Some("3.12"));
        assert_eq!(major_minor("3.9").as_deref(), Some("3.9"));
        for bad in ["3", "x.y", "", "3."] {
            assert_eq!(major_minor(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_cache_entry_is_used_only_for_its_key() {
        let temp = tempfile::tempdir().unwrap();
        let interpreter = temp.path().join("python");
        std::fs::write(&interpreter, "not really").unwrap();
        let key = Key::of(&interpreter).unwrap();
        let probe = Probe {
            version: "3.12".into(),
            prefix: temp.path().into(),
            base_prefix: temp.path().into(),
            executable: interpreter.clone(),
            site_packages: vec![temp.path().join("site-packages")],
            markers: Some(
                MarkerValues::synthetic("3.12", crate::lockfile::marker::Platform::Linux).unwrap(),
            ),
        };
        let cache = temp.path().join("cache");
        write_entry(&cache, &key.file_name(), &key, &probe);
        assert_eq!(read_entry(&cache, &key.file_name(), &key), Some(probe));
        // The interpreter changed (another size): the entry no longer applies.
        std::fs::write(&interpreter, "another interpreter").unwrap();
        let changed = Key::of(&interpreter).unwrap();
        assert_eq!(
            read_entry::<_, Probe>(&cache, &changed.file_name(), &changed),
            None
        );
        // A FIFO or an oversized (sparse) file planted at the entry's name is not read.
        let path = cache.join(changed.file_name());
        std::fs::remove_file(&path).ok();
        #[cfg(unix)]
        {
            let status = std::process::Command::new("mkfifo").arg(&path).status();
            if status.is_ok_and(|status| status.success()) {
                assert_eq!(
                    read_entry::<_, Probe>(&cache, &changed.file_name(), &changed),
                    None
                );
                std::fs::remove_file(&path).unwrap();
            }
        }
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(crate::untrusted::CACHE_CAP + 1).unwrap();
        assert_eq!(
            read_entry::<_, Probe>(&cache, &changed.file_name(), &changed),
            None
        );
    }
}
