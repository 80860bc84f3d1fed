//! Reading files the user does not fully control: requirements files and what they
//! include, `uv.lock`, `poetry.lock`, `pylock.toml`, `pyproject.toml` (beside a lock, and
//! the uv project's), registry files (`--registry`, overlays, the user registry), the
//! target's `bootstrap_gen.py` and the download cache; and writing the files the tool
//! writes ([`write_atomically`]).
//!
//! One policy for all of them (SECURITY.md, "Reading untrusted files"):
//!
//! - only a regular file is read: a FIFO, a socket, a device (`/dev/zero`, `/dev/stdin`)
//!   or anything under `/proc`, `/sys` or `/dev` is refused with a message naming the file,
//!   and the open never blocks (a FIFO with no writer would otherwise hang the run);
//! - at most [`FileKind::cap`] bytes are read, streamed through `take(cap + 1)`: a larger
//!   file is refused without ever being held in memory whole;
//! - the text must be UTF-8 (a leading byte-order mark is dropped); the first invalid byte
//!   is reported by line, never echoed.
//!
//! What a file *says* is never echoed unless it parsed as what it should be (a
//! requirement, a TOML key): the parsers name the line and the kind of line instead.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A requirements file (`-r`/`-c` includes too): 16 MiB. `pip-compile --generate-hashes`
/// output for a 1,000-package project is about 1 MiB.
pub(crate) const REQUIREMENTS_CAP: u64 = 16 * 1024 * 1024;
/// A lock file (`uv.lock`, `poetry.lock`, `pylock.toml`): 64 MiB. A real 400-package
/// `uv.lock` with every wheel listed is about 1 MiB.
pub(crate) const LOCKFILE_CAP: u64 = 64 * 1024 * 1024;
/// A `pyproject.toml` beside a lock file: 4 MiB.
pub(crate) const PYPROJECT_CAP: u64 = 4 * 1024 * 1024;
/// A registry file (`--registry`, an overlay, a user registry file): 4 MiB. The bundled
/// release files are about 15 KB.
pub(crate) const REGISTRY_CAP: u64 = 4 * 1024 * 1024;
/// A file of the download cache: 64 MiB, the most the index client downloads.
pub(crate) const CACHE_CAP: u64 = 64 * 1024 * 1024;
/// The target's `opentelemetry/instrumentation/bootstrap_gen.py`: 1 MiB.
pub(crate) const BOOTSTRAP_GEN_CAP: u64 = 1024 * 1024;

/// What a file is read as; decides its size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Requirements,
    Lockfile,
    Pyproject,
    Registry,
    Cache,
    BootstrapGen,
}

impl FileKind {
    /// The largest file of this kind that is read.
    pub(crate) fn cap(self) -> u64 {
        match self {
            Self::Requirements => REQUIREMENTS_CAP,
            Self::Lockfile => LOCKFILE_CAP,
            Self::Pyproject => PYPROJECT_CAP,
            Self::Registry => REGISTRY_CAP,
            Self::Cache => CACHE_CAP,
            Self::BootstrapGen => BOOTSTRAP_GEN_CAP,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Requirements => "a requirements file",
            Self::Lockfile => "a lock file",
            Self::Pyproject => "a pyproject.toml",
            Self::Registry => "a registry file",
            Self::Cache => "a cached download",
            Self::BootstrapGen => "a bootstrap_gen.py",
        }
    }
}

/// Why a file was not read. Every variant names the file; none holds its content.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The open or the read failed.
    Io(std::io::Error),
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Under `/proc`, `/sys` or `/dev`.
    SystemPath,
    /// Larger than the cap.
    TooLarge { kind: FileKind },
    /// Not UTF-8: the 1-based line of the first invalid byte, and the byte.
    NotUtf8 { line: usize, byte: u8 },
}

impl fmt::Display for ReadError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(formatter, "{error}"),
            Self::NotRegular(what) => write!(
                formatter,
                "it is {what}, not a regular file (only regular files are read)"
            ),
            Self::SystemPath => formatter.write_str(
                "it is a system file under /proc, /sys or /dev (only project files are read)",
            ),
            Self::TooLarge { kind } => write!(
                formatter,
                "it is larger than {} MiB, the most read from {}",
                kind.cap() / (1024 * 1024),
                kind.label()
            ),
            Self::NotUtf8 { line, byte } => {
                write!(
                    formatter,
                    "line {line}: not UTF-8 (invalid byte 0x{byte:02x})"
                )
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads `path` as text under the policy above.
pub(crate) fn read_text(path: &Path, kind: FileKind) -> Result<String, ReadError> {
    decode(read_bytes(path, kind)?)
}

/// Reads `path` as bytes under the policy above (regular file, not a system path, at
/// most the kind's cap; the size the file claims is checked before reading too).
pub(crate) fn read_bytes(path: &Path, kind: FileKind) -> Result<Vec<u8>, ReadError> {
    refuse_system_path(path)?;
    let file = open_regular(path)?;
    let claimed = file.metadata().map_err(ReadError::Io)?.len();
    if claimed > kind.cap() {
        return Err(ReadError::TooLarge { kind });
    }
    let mut bytes = Vec::with_capacity(claimed.min(kind.cap()) as usize);
    file.take(kind.cap() + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > kind.cap() {
        return Err(ReadError::TooLarge { kind });
    }
    Ok(bytes)
}

/// Writes `contents` to `path` so that no other process can redirect the write: a new
/// file with a random name is created next to it (`O_CREAT | O_EXCL`, which never
/// follows a symbolic link planted there), written, and renamed over `path` (the rename
/// replaces a link at `path` itself, never its target). The directory is created when
/// missing and must then be a directory. A failure leaves no temporary file behind.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(directory)?;
    if !std::fs::metadata(directory)?.is_dir() {
        return Err(std::io::Error::other(format!(
            "`{}` is not a directory",
            directory.display()
        )));
    }
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("file");
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Readable as a file written the usual way would be (the umask still applies).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temporary = builder.tempfile_in(directory)?;
    temporary.write_all(contents)?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// UTF-8 text from `bytes`, a leading byte-order mark dropped.
pub(crate) fn decode(mut bytes: Vec<u8>) -> Result<String, ReadError> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.into_bytes();
        ReadError::NotUtf8 {
            line: bytes[..valid].iter().filter(|byte| **byte == b'\n').count() + 1,
            byte: bytes[valid],
        }
    })
}

/// `/proc`, `/sys` and `/dev` hold no project files; several of their regular-looking
/// files (`/proc/self/environ`) are secrets. Checked on the path as written and as
/// resolved, so a symbolic link into them is refused too.
pub(crate) fn refuse_system_path(path: &Path) -> Result<(), ReadError> {
    let is_system = |path: &Path| {
        ["/proc", "/sys", "/dev"]
            .iter()
            .any(|root| path.starts_with(root))
    };
    if is_system(path) {
        return Err(ReadError::SystemPath);
    }
    if let Ok(resolved) = std::fs::canonicalize(path) {
        if is_system(&resolved) {
            return Err(ReadError::SystemPath);
        }
    }
    Ok(())
}

/// Opens `path` without blocking (a FIFO with no writer would) and keeps it only when it
/// is a regular file.
fn open_regular(path: &Path) -> Result<File, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if metadata.is_file() {
        return Ok(file);
    }
    Err(ReadError::NotRegular(describe_type(&metadata)))
}

fn describe_type(metadata: &std::fs::Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let file_type = metadata.file_type();
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    "a special file"
}

/// Where an include may point: inside `root` (resolved), else an error naming both.
/// `root` is the project directory a `--from` file belongs to (see [`project_root`]).
pub(crate) fn inside(root: &Path, path: &Path) -> bool {
    match std::fs::canonicalize(path) {
        Ok(resolved) => resolved.starts_with(root),
        // Missing files are reported by the read, not here.
        Err(_) => true,
    }
}

/// The directory the includes of `top_level` (a file named by `--from`) must stay in:
/// the current directory when the file is inside it, else the file's own directory.
/// Both resolved (symbolic links followed).
pub(crate) fn project_root(top_level: &Path, current_dir: Option<&Path>) -> PathBuf {
    let parent = top_level
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned());
    if let Some(current) = current_dir.and_then(|current| std::fs::canonicalize(current).ok()) {
        if parent.starts_with(&current) {
            return current;
        }
    }
    parent
}

/// `text` with the credentials of every URL in it replaced by `****`: the project's one
/// redactor ([`crate::redact::redact`]), for lockfile diagnostics.
pub(crate) fn redact(text: &str) -> String {
    crate::redact::redact(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_fifos_directories_and_system_paths() {
        let directory = tempfile::tempdir().unwrap();
        let error = read_text(Path::new("/dev/zero"), FileKind::Requirements).unwrap_err();
        assert!(matches!(error, ReadError::SystemPath), "{error}");
        let error = read_text(directory.path(), FileKind::Lockfile).unwrap_err();
        assert!(error.to_string().contains("a directory"), "{error}");
        let fifo = directory.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let error = read_text(&fifo, FileKind::Requirements).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        let link = directory.path().join("environ");
        std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
        let error = read_text(&link, FileKind::Requirements).unwrap_err();
        assert!(matches!(error, ReadError::SystemPath), "{error}");
    }

    #[test]
    fn caps_the_size_and_reports_bad_bytes_by_line() {
        let directory = tempfile::tempdir().unwrap();
        let big = directory.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; PYPROJECT_CAP as usize + 1]).unwrap();
        let error = read_text(&big, FileKind::Pyproject).unwrap_err();
        assert!(matches!(error, ReadError::TooLarge { .. }), "{error}");
        std::fs::write(&big, vec![b'#'; PYPROJECT_CAP as usize]).unwrap();
        assert!(read_text(&big, FileKind::Pyproject).is_ok());
        let error = decode(b"a\nb\xff".to_vec()).unwrap_err();
        assert_eq!(error.to_string(), "line 2: not UTF-8 (invalid byte 0xff)");
        assert_eq!(decode(b"\xef\xbb\xbfa".to_vec()).unwrap(), "a");
    }

    #[test]
    fn the_project_root_is_the_current_directory_when_the_file_is_inside() {
        let directory = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(directory.path()).unwrap();
        let nested = root.join("services/api");
        std::fs::create_dir_all(&nested).unwrap();
        let file = nested.join("requirements.txt");
        assert_eq!(project_root(&file, Some(&root)), root);
        assert_eq!(
            project_root(&file, Some(Path::new("/"))),
            PathBuf::from("/")
        );
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(project_root(&file, Some(elsewhere.path())), nested);
        assert!(inside(&nested, &file));
        assert!(!inside(&nested, &root));
    }
}
