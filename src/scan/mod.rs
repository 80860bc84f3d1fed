//! Scanning site-packages directories for installed distributions.
//!
//! One non-recursive read of each directory. A folder name (`name-version.dist-info`) is a
//! cheap hint: only folders whose name concerns the registry are opened, which is also how
//! `importlib.metadata` (and so every instrumentor at run time) finds a distribution. The
//! metadata inside is the truth for `Name` and `Version`. Broken entries become warnings;
//! nothing here fails the run.
//!
//! Each core-metadata file is read once per run ([`core_metadata`]): the scan, the
//! dependency graph (`Requires-Dist`) and the verification after an install share what
//! was read, for as long as the file is the same one (size, modification time, inode).

mod folder;
pub mod metadata;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::requirement::PackageName;
use crate::requirement::Version;

use crate::diagnostics::{Warning, WarningKind};
use crate::requirement::{normalize, parse_name, parse_version};
use folder::{classify, FolderKind};

/// An installed distribution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledDistribution {
    /// The normalized project name, from the metadata.
    pub name: PackageName,
    /// The version as written in the metadata.
    pub raw_version: String,
    /// The parsed version; `None` when it is not PEP 440 (such a distribution matches nothing).
    #[serde(skip)]
    pub version: Option<Version>,
    /// The `*.dist-info` / `*.egg-info` / `*.egg` path.
    pub path: PathBuf,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Installed {
    distributions: HashMap<PackageName, InstalledDistribution>,
    pub warnings: Vec<Warning>,
}

impl Installed {
    /// The distribution installed under `name`, if any.
    pub(crate) fn get(&self, name: &PackageName) -> Option<&InstalledDistribution> {
        self.distributions.get(name)
    }

    /// [`Installed::get`] by a name as written (`opentelemetry-sdk`).
    pub(crate) fn get_str(&self, name: &str) -> Option<&InstalledDistribution> {
        self.get(&parse_name(name)?)
    }

    /// How many distributions of interest were found.
    pub fn len(&self) -> usize {
        self.distributions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.distributions.is_empty()
    }

    /// Builds an index from already-known distributions (lockfiles, tests).
    pub(crate) fn from_distributions(
        distributions: impl IntoIterator<Item = InstalledDistribution>,
    ) -> Self {
        let mut installed = Self::default();
        for distribution in distributions {
            installed
                .distributions
                .entry(distribution.name.clone())
                .or_insert(distribution);
        }
        installed
    }

    /// All distributions found, sorted by name.
    pub fn iter_sorted(&self) -> Vec<&InstalledDistribution> {
        let mut all: Vec<_> = self.distributions.values().collect();
        all.sort_by(|left, right| left.name.cmp(&right.name));
        all
    }
}

/// The `Requires-Dist` values of an installed `*.dist-info` (its `METADATA`). Other forms
/// (`.egg-info`) keep requirements elsewhere and yield none.
pub(crate) fn requires_dist(path: &Path) -> Result<Vec<String>, String> {
    let is_dist_info = path
        .extension()
        .is_some_and(|extension| extension == "dist-info");
    if !is_dist_info {
        return Ok(Vec::new());
    }
    let metadata = path.join("METADATA");
    // Read as the scan reads it (once per run): a regular file only, never blocking on a
    // FIFO.
    core_metadata(&metadata)
        .map(|headers| headers.requires_dist.clone())
        .map_err(|error| format!("`{}`: {}", metadata.display(), error.error()))
}

/// A core-metadata file as this run read it, and the state of the file it was read from.
struct Remembered {
    stamp: Stamp,
    headers: Arc<metadata::Headers>,
}

/// What tells one file from another at the same path: an installer replacing it changes
/// at least one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    length: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(status: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(status);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            length: status.len(),
            modified: status.modified().ok(),
            inode,
        }
    }
}

/// The files read so far in this run, by path.
fn remembered() -> &'static Mutex<HashMap<PathBuf, Remembered>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, Remembered>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Why a core-metadata file could not be used.
enum MetadataError {
    /// It could not be opened, or is not a regular file.
    Open(std::io::Error),
    /// It was opened but could not be read.
    Read(std::io::Error),
}

impl MetadataError {
    fn error(&self) -> &std::io::Error {
        match self {
            MetadataError::Open(error) | MetadataError::Read(error) => error,
        }
    }
}

/// The headers of the core-metadata file at `path` (a regular file only, never blocking
/// on a FIFO), read at most once per run while the file stays the same.
fn core_metadata(path: &Path) -> Result<Arc<metadata::Headers>, MetadataError> {
    // Only a file read before is looked at first: the scan's first read costs no extra stat.
    let known = remembered().lock().ok().and_then(|files| {
        files
            .get(path)
            .map(|known| (known.stamp, Arc::clone(&known.headers)))
    });
    if let Some((stamp, headers)) = known {
        let same = std::fs::metadata(path)
            .is_ok_and(|status| status.is_file() && Stamp::of(&status) == stamp);
        if same {
            return Ok(headers);
        }
    }
    let file = open_metadata(path).map_err(MetadataError::Open)?;
    let stamp = Stamp::of(&file.metadata().map_err(MetadataError::Open)?);
    let headers = Arc::new(metadata::read_headers_of_interest(file).map_err(MetadataError::Read)?);
    if let Ok(mut files) = remembered().lock() {
        files.insert(
            path.to_owned(),
            Remembered {
                stamp,
                headers: Arc::clone(&headers),
            },
        );
    }
    Ok(headers)
}

/// `; repair it: …` for a `name-version.dist-info` folder: remove the folder (pip cannot
/// uninstall a distribution without metadata), then reinstall `name==version` into the
/// environment that holds it, with that environment's interpreter when the layout names
/// it; nothing when the folder name says too little.
fn repair_hint(path: &Path, file_name: &str, kind: FolderKind) -> String {
    let Some((_, stem)) = classify(file_name) else {
        return String::new();
    };
    let (FolderKind::DistInfo, Some((name, version))) = (kind, stem.split_once('-')) else {
        return String::new();
    };
    if name.is_empty() || version.is_empty() {
        return String::new();
    }
    let requirement = format!("{name}=={version}");
    let requirement = crate::redact::quote(&requirement);
    match path.parent().and_then(|directory| crate::environment::site_packages_owner(directory).map(|(_, interpreter)| interpreter)) {
        Some(interpreter) => {
            let interpreter = interpreter.display().to_string();
            let interpreter = crate::redact::quote(&interpreter);
            format!(
                "; repair it: remove the folder, then `{interpreter} -m pip install --force-reinstall --no-deps {requirement}` (without pip there: `uv pip install --python {interpreter} --reinstall --no-deps {requirement}`)"
            )
        }
        None => format!(
            "; repair it: remove the folder, then reinstall `{requirement}` into the environment it belongs to, with that environment's Python: `python -m pip install --force-reinstall --no-deps {requirement}`"
        ),
    }
}

/// Whether the distribution was installed from a URL or a local path (PEP 610's
/// `direct_url.json`: an editable project, a local directory, a VCS checkout, a wheel
/// file) rather than by name from an index, so that no installer can move it by name.
pub(crate) fn is_direct_reference(path: &Path) -> bool {
    path.join("direct_url.json").is_file()
}

/// Scans `directories` in order. `wanted` holds the normalized names worth reading; a
/// project found in an earlier directory hides the same project in a later one.
pub fn scan(directories: &[PathBuf], wanted: &HashSet<String>) -> Installed {
    list(directories).read(wanted)
}

/// The metadata folders of each directory, from one read of each. [`Listing::read`] opens
/// the ones a plan needs, and can be asked again with more names without reading the
/// directories again (a site-packages of thousands of projects costs more to list than
/// everything else together).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    directories: Vec<DirectoryListing>,
    warnings: Vec<Warning>,
}

#[derive(Debug)]
struct DirectoryListing {
    path: PathBuf,
    /// `*.dist-info`, `*.egg-info` and `*.egg` entries, in directory order.
    entries: Vec<(String, FolderKind)>,
}

/// Lists `directories`, in order.
pub(crate) fn list(directories: &[PathBuf]) -> Listing {
    let mut listing = Listing::default();
    for directory in directories {
        let entries = match std::fs::read_dir(directory) {
            Ok(entries) => entries,
            Err(error) => {
                listing.warnings.push(sanitized_warning(
                    WarningKind::Unreadable,
                    format!("cannot read `{}`: {error}", directory.display()),
                ));
                continue;
            }
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    listing.warnings.push(sanitized_warning(
                        WarningKind::Unreadable,
                        format!("cannot read an entry of `{}`: {error}", directory.display()),
                    ));
                    continue;
                }
            };
            let file_name = entry.file_name();
            // Most entries are packages and modules: reject them before any UTF-8 work.
            if !folder::may_hold_metadata(file_name.as_encoded_bytes()) {
                continue;
            }
            let file_name = file_name
                .into_string()
                .unwrap_or_else(|raw| raw.to_string_lossy().into_owned());
            if let Some((kind, _)) = classify(&file_name) {
                found.push((file_name, kind));
            }
        }
        listing.directories.push(DirectoryListing {
            path: directory.clone(),
            entries: found,
        });
    }
    listing
}

impl Listing {
    /// Reads the distributions named in `wanted` (normalized names).
    pub(crate) fn read(&self, wanted: &HashSet<String>) -> Installed {
        // Every entry is looked up here: a cheap hash beats SipHash's protection, which
        // file names chosen by an attacker could not exploit anyway (the set is small).
        let wanted: HashSet<&str, BuildHasherDefault<FastHasher>> =
            wanted.iter().map(String::as_str).collect();
        let prefixes = PrefixFilter::new(wanted.iter().copied());
        let mut buffer = String::new();
        self.read_where(|file_name| {
            prefixes.may_match(file_name.as_bytes())
                && classify(file_name).is_some_and(|(_, stem)| {
                    folder::any_name_candidate(stem, &mut buffer, |candidate| {
                        wanted.contains(candidate)
                    })
                })
        })
    }

    /// Reads every distribution: what the dependency graph ([`crate::graph`]) needs.
    pub(crate) fn read_all(&self) -> Installed {
        self.read_where(|_| true)
    }

    /// Reads the entries whose folder name `keep` accepts.
    fn read_where(&self, mut keep: impl FnMut(&str) -> bool) -> Installed {
        let mut installed = Installed {
            warnings: self.warnings.clone(),
            ..Installed::default()
        };
        for directory in &self.directories {
            let mut chosen: Vec<&(String, FolderKind)> = directory
                .entries
                .iter()
                .filter(|(file_name, _)| keep(file_name))
                .collect();
            // Sorted, so that duplicates resolve the same way on every file system.
            chosen.sort();
            let mut seen_here: HashSet<PackageName> = HashSet::new();
            for (file_name, kind) in chosen {
                let path = directory.path.join(file_name);
                let Some(distribution) = read_distribution(&path, file_name, *kind, &mut installed)
                else {
                    continue;
                };
                if !seen_here.insert(distribution.name.clone()) {
                    let kept = installed
                        .get(&distribution.name)
                        .map(|kept| kept.path.display().to_string())
                        .unwrap_or_default();
                    installed.warnings.push(sanitized_warning(
                        WarningKind::DuplicateDistribution,
                        format!(
                            "`{}` is installed twice in `{}`; using `{kept}` and ignoring `{}`",
                            distribution.name,
                            directory.path.display(),
                            path.display()
                        ),
                    ));
                    continue;
                }
                if let Entry::Vacant(slot) =
                    installed.distributions.entry(distribution.name.clone())
                {
                    slot.insert(distribution);
                }
            }
        }
        installed
    }
}

/// The first two characters of every wanted name, normalized (lowercase, `_` and `.` as
/// `-`): a folder whose name starts with neither can hold no wanted project, and that
/// rejects most of a large site-packages before any normalization or hashing.
struct PrefixFilter {
    /// One bit per pair of bytes; `None` when some wanted name is one character long.
    bits: Option<Box<[u64; 1024]>>,
}

impl PrefixFilter {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for name in names {
            let &[first, second, ..] = name.as_bytes() else {
                return Self { bits: None };
            };
            let index = Self::index(first, second);
            bits[index / 64] |= 1 << (index % 64);
        }
        Self { bits: Some(bits) }
    }

    fn index(first: u8, second: u8) -> usize {
        let fold = |byte: u8| match byte.to_ascii_lowercase() {
            b'_' | b'.' => b'-',
            other => other,
        };
        usize::from(fold(first)) << 8 | usize::from(fold(second))
    }

    fn may_match(&self, file_name: &[u8]) -> bool {
        match (&self.bits, file_name) {
            (Some(bits), &[first, second, ..]) => {
                let index = Self::index(first, second);
                bits[index / 64] & (1 << (index % 64)) != 0
            }
            _ => true,
        }
    }
}

/// FxHash (as in rustc): one multiply per word. Used only for the small wanted-name set.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
        }
    }
}

/// The entry-name filter of [`Listing::read`] applied to one name, for the fuzz targets
/// (`crate::fuzzing`): the kind and stem, and every name candidate tried, in order.
#[doc(hidden)]
pub(crate) fn fuzz_folder_name(file_name: &[u8]) -> Option<(String, Vec<String>)> {
    if !folder::may_hold_metadata(file_name) {
        return None;
    }
    let file_name = String::from_utf8_lossy(file_name);
    let (kind, stem) = classify(&file_name)?;
    let mut tried = Vec::new();
    folder::any_name_candidate(stem, &mut String::new(), |candidate| {
        tried.push(candidate.to_owned());
        false
    });
    Some((format!("{kind:?} {stem}"), tried))
}

/// Opens a metadata file for reading, refusing anything but a regular file. On Unix the
/// open does not block: a FIFO named `METADATA` with no writer would otherwise hang the
/// scan forever (found by `tests/hostile.rs`), and a device such as `/dev/zero` is refused
/// before it is read.
fn open_metadata(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0o4000); // O_NONBLOCK
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0x0004); // O_NONBLOCK
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    Ok(file)
}

/// A warning whose text names what site-packages holds (folder names, `Name:` and
/// `Version:` headers): control characters escaped ([`crate::sanitize`]).
fn sanitized_warning(kind: WarningKind, message: String) -> Warning {
    Warning::new(kind, crate::sanitize::sanitize_lines(&message).into_owned())
}

fn read_distribution(
    path: &Path,
    file_name: &str,
    kind: FolderKind,
    installed: &mut Installed,
) -> Option<InstalledDistribution> {
    let mut warn = |kind: WarningKind, message: String| {
        installed.warnings.push(sanitized_warning(kind, message));
    };
    let metadata_path = match kind {
        FolderKind::DistInfo => path.join("METADATA"),
        FolderKind::Egg => path.join("EGG-INFO").join("PKG-INFO"),
        FolderKind::EggInfo => match std::fs::metadata(path) {
            Ok(status) if status.is_dir() => path.join("PKG-INFO"),
            Ok(_) => path.to_path_buf(),
            Err(error) => {
                warn(
                    WarningKind::Unreadable,
                    format!("skipping `{}`: {error}", path.display()),
                );
                return None;
            }
        },
    };
    let headers = match core_metadata(&metadata_path) {
        Ok(headers) => headers,
        Err(MetadataError::Read(error)) => {
            warn(
                WarningKind::BrokenDistribution,
                format!(
                    "skipping `{}`: cannot read `{}`: {error}",
                    path.display(),
                    metadata_path.display()
                ),
            );
            return None;
        }
        Err(MetadataError::Open(error)) => {
            let reason = match std::fs::symlink_metadata(path) {
                Err(_) => format!("{error}"),
                Ok(status) if status.is_symlink() && std::fs::metadata(path).is_err() => {
                    "it is a broken symbolic link".to_owned()
                }
                Ok(status) if !status.is_dir() && kind != FolderKind::EggInfo => {
                    "it is not a directory".to_owned()
                }
                Ok(_) if error.kind() == std::io::ErrorKind::NotFound => format!(
                    "it has no `{}` (an install cut short, e.g. by a full disk){}",
                    metadata_path
                        .strip_prefix(path)
                        .unwrap_or(&metadata_path)
                        .display(),
                    repair_hint(path, file_name, kind)
                ),
                Ok(_) => format!("cannot read `{}`: {error}", metadata_path.display()),
            };
            warn(
                WarningKind::BrokenDistribution,
                format!("skipping `{}`: {reason}", path.display()),
            );
            return None;
        }
    };
    let (Some(raw_name), Some(raw_version)) =
        (headers.core.name.clone(), headers.core.version.clone())
    else {
        warn(
            WarningKind::BrokenDistribution,
            format!(
                "skipping `{}`: its metadata has no `Name` or no `Version`",
                path.display()
            ),
        );
        return None;
    };
    let Some(name) = parse_name(&raw_name) else {
        warn(
            WarningKind::BrokenDistribution,
            format!(
                "skipping `{}`: `{raw_name}` is not a valid project name",
                path.display()
            ),
        );
        return None;
    };
    let (_, stem) = classify(file_name)?;
    if !folder::any_name_candidate(stem, &mut String::new(), |candidate| {
        candidate == name.as_ref()
    }) {
        warn(
            WarningKind::NameMismatch,
            format!(
                "`{}` holds the metadata of `{raw_name}`; using `{raw_name}`",
                path.display()
            ),
        );
    }
    let version = parse_version(&raw_version);
    if version.is_none() {
        warn(
            WarningKind::InvalidVersion,
            format!(
                "`{raw_name}` has version `{raw_version}`, which is not a PEP 440 version; it matches no instrumentation (`{}`)",
                path.display()
            ),
        );
    }
    debug_assert_eq!(normalize(name.as_ref()), name.as_ref());
    Some(InstalledDistribution {
        name,
        // A PEP 440 version has no control character; anything else is shown escaped.
        raw_version: crate::sanitize::sanitize(&raw_version).into_owned(),
        version,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file is read once per run: the scan and the graph's `Requires-Dist` share the
    /// read while the file is the same one, and a replaced file is read again.
    #[test]
    fn each_metadata_file_is_read_once_while_it_is_unchanged() {
        let temp = tempfile::tempdir().unwrap();
        let info = temp.path().join("demo-1.0.dist-info");
        std::fs::create_dir(&info).unwrap();
        let metadata = info.join("METADATA");
        let text = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: aaa\n\nbody\n";
        std::fs::write(&metadata, text).unwrap();

        let wanted: HashSet<String> = ["demo".to_owned()].into();
        let installed = scan(&[temp.path().to_path_buf()], &wanted);
        assert_eq!(installed.get_str("demo").unwrap().raw_version, "1.0");
        assert_eq!(requires_dist(&info).unwrap(), ["aaa"]);

        // Rewritten in place to the same length, its time put back: the same file as far
        // as any installer can tell, so what was read is used (the proof that it is not
        // read again).
        let modified = std::fs::metadata(&metadata).unwrap().modified().unwrap();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&metadata)
            .unwrap();
        std::io::Write::write_all(&mut &file, text.replace("aaa", "bbb").as_bytes()).unwrap();
        file.set_modified(modified).unwrap();
        drop(file);
        assert_eq!(requires_dist(&info).unwrap(), ["aaa"]);

        // Replaced, as an installer replaces it: read again.
        std::fs::remove_file(&metadata).unwrap();
        std::fs::write(&metadata, text.replace("aaa", "cccc")).unwrap();
        assert_eq!(requires_dist(&info).unwrap(), ["cccc"]);
    }
}
