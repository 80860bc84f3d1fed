//! Reading `Name` and `Version` from a core-metadata file (`METADATA`, `PKG-INFO`).
//!
//! Only the header block is read (it ends at the first blank line; the long description
//! after it can be megabytes). Folded lines, CRLF line ends and bytes that are not UTF-8
//! are tolerated.

use std::io::{BufRead, BufReader, Read};

/// The header block is never longer than this in practice; stop reading after it.
const MAXIMUM_HEADER_BYTES: u64 = 1024 * 1024;

/// The two fields this tool needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
}

/// What a run needs of an installed distribution's metadata: the two fields, and its
/// `Requires-Dist` values (for the dependency graph), read in one pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Headers {
    pub(crate) core: CoreMetadata,
    pub(crate) requires_dist: Vec<String>,
}

/// Parses the whole header block of `reader` into [`Headers`].
pub(crate) fn read_headers_of_interest(reader: impl Read) -> std::io::Result<Headers> {
    let mut headers = Headers::default();
    read_headers(reader, |key, value| {
        if key.eq_ignore_ascii_case("requires-dist") {
            headers.requires_dist.push(value.to_owned());
            return true;
        }
        let slot = if key.eq_ignore_ascii_case("name") {
            &mut headers.core.name
        } else if key.eq_ignore_ascii_case("version") {
            &mut headers.core.version
        } else {
            return true;
        };
        if slot.is_none() {
            *slot = Some(value.to_owned());
        }
        true
    })?;
    forget_unknown(&mut headers.core);
    Ok(headers)
}

/// Parses the header block of `reader`.
pub fn read_core_metadata(reader: impl Read) -> std::io::Result<CoreMetadata> {
    let mut metadata = CoreMetadata::default();
    read_headers(reader, |key, value| {
        let slot = if key.eq_ignore_ascii_case("name") {
            &mut metadata.name
        } else if key.eq_ignore_ascii_case("version") {
            &mut metadata.version
        } else {
            return true;
        };
        if slot.is_none() {
            *slot = Some(value.to_owned());
        }
        metadata.name.is_none() || metadata.version.is_none()
    })?;
    forget_unknown(&mut metadata);
    Ok(metadata)
}

/// An empty or `UNKNOWN` name or version (what old setuptools writes) is no value.
fn forget_unknown(metadata: &mut CoreMetadata) {
    for value in [&mut metadata.name, &mut metadata.version] {
        if value
            .as_deref()
            .is_some_and(|text| text.is_empty() || text == "UNKNOWN")
        {
            *value = None;
        }
    }
}

/// Calls `visit(key, value)` for each header of the block at the start of `reader`, with
/// folded continuation lines joined (by a space) and both sides trimmed, until the block
/// ends (a blank line, end of file, or [`MAXIMUM_HEADER_BYTES`]) or `visit` returns
/// `false`. Lines without a `:` are skipped.
pub(crate) fn read_headers(
    reader: impl Read,
    mut visit: impl FnMut(&str, &str) -> bool,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(reader.take(MAXIMUM_HEADER_BYTES));
    let mut line = Vec::new();
    // The header being read, completed by any continuation lines that follow it.
    let mut current: Option<(String, String)> = None;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if read > 0 && text.starts_with([' ', '\t']) && !text.trim().is_empty() {
            if let Some((_, value)) = &mut current {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(text.trim());
            }
            continue;
        }
        if let Some((key, value)) = current.take() {
            if !visit(&key, &value) {
                return Ok(());
            }
        }
        if read == 0 || text.trim().is_empty() {
            return Ok(());
        }
        if let Some((key, value)) = text.split_once(':') {
            current = Some((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> CoreMetadata {
        read_core_metadata(bytes).unwrap()
    }

    #[test]
    fn reads_name_and_version() {
        let metadata = parse(
            b"Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.0\nSummary: x\n\nName: not-this\n",
        );
        assert_eq!(metadata.name.as_deref(), Some("Flask"));
        assert_eq!(metadata.version.as_deref(), Some("3.0.0"));
    }

    #[test]
    fn tolerates_crlf_and_case_and_spacing() {
        let metadata =
            parse(b"metadata-version: 2.1\r\nname:   requests  \r\nVERSION:2.31.0\r\n\r\n");
        assert_eq!(metadata.name.as_deref(), Some("requests"));
        assert_eq!(metadata.version.as_deref(), Some("2.31.0"));
    }

    #[test]
    fn joins_folded_lines() {
        let metadata = parse(b"Name: flask\nVersion:\n  3.0.0\nSummary: a\n  b\n\n");
        assert_eq!(metadata.version.as_deref(), Some("3.0.0"));
    }

    #[test]
    fn stops_at_the_body() {
        let metadata = parse(b"Name: flask\n\nVersion: 3.0.0\n");
        assert_eq!(metadata.name.as_deref(), Some("flask"));
        assert_eq!(metadata.version, None);
    }

    #[test]
    fn unknown_and_empty_values_are_missing() {
        let metadata = parse(b"Name: UNKNOWN\nVersion: \n\n");
        assert_eq!(metadata, CoreMetadata::default());
        assert_eq!(parse(b""), CoreMetadata::default());
    }

    #[test]
    fn tolerates_invalid_utf8() {
        let metadata = parse(b"Name: caf\xe9\nAuthor: J\xf6rg\nVersion: 1.0\n\n");
        assert_eq!(metadata.name.as_deref(), Some("caf\u{fffd}"));
        assert_eq!(metadata.version.as_deref(), Some("1.0"));
    }

    #[test]
    fn garbage_gives_nothing() {
        let metadata = parse(&[0u8, 159, 146, 150, 10, 255, 254, 10]);
        assert_eq!(metadata, CoreMetadata::default());
    }
}
