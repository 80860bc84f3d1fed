//! The project's files as they were before a recording installer ran (`uv add`, `poetry
//! add`, ...), so that a failure leaves every manifest and lock byte for byte as it was.

use std::path::{Path, PathBuf};

/// Each file's bytes, or that it did not exist.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

/// The files a recording tool may write in `directory`.
pub(crate) const PROJECT_FILES: &[&str] = &[
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile",
    "Pipfile.lock",
    "requirements.in",
    "requirements.txt",
];

impl Snapshot {
    /// Reads the [`PROJECT_FILES`] of every directory given (a workspace root and its
    /// member).
    pub(crate) fn take<'a>(directories: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut files = Vec::new();
        for directory in directories {
            for name in PROJECT_FILES {
                let path = directory.join(name);
                if files.iter().any(|(known, _)| *known == path) {
                    continue;
                }
                let bytes = std::fs::read(&path).ok();
                files.push((path, bytes));
            }
        }
        Self { files }
    }

    /// The files whose bytes differ now.
    #[cfg(test)]
    pub(crate) fn changed(&self) -> Vec<&Path> {
        self.files
            .iter()
            .filter(|(path, bytes)| std::fs::read(path).ok() != *bytes)
            .map(|(path, _)| path.as_path())
            .collect()
    }

    /// Writes every changed file back (removing those that did not exist); the paths that
    /// could not be restored.
    pub(crate) fn restore(&self) -> Vec<PathBuf> {
        let mut failed = Vec::new();
        for (path, bytes) in &self.files {
            if std::fs::read(path).ok() == *bytes {
                continue;
            }
            let result = match bytes {
                Some(bytes) => std::fs::write(path, bytes),
                None => std::fs::remove_file(path),
            };
            if result.is_err() {
                failed.push(path.clone());
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_bytes_and_removes_new_files() {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path();
        std::fs::write(root.join("pyproject.toml"), b"a\r\n# kept\n").unwrap();
        let snapshot = Snapshot::take([root]);
        std::fs::write(root.join("pyproject.toml"), b"b\n").unwrap();
        std::fs::write(root.join("poetry.lock"), b"new").unwrap();
        assert_eq!(snapshot.changed().len(), 2);
        assert!(snapshot.restore().is_empty());
        assert_eq!(
            std::fs::read(root.join("pyproject.toml")).unwrap(),
            b"a\r\n# kept\n"
        );
        assert!(!root.join("poetry.lock").exists());
        assert!(snapshot.changed().is_empty());
    }
}
