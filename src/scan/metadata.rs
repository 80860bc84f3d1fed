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

/// Parses the header block of `reader`.
pub fn read_core_metadata(reader: impl Read) -> std::io::Result<CoreMetadata> {
    let mut reader = BufReader::new(reader.take(MAXIMUM_HEADER_BYTES));
    let mut metadata = CoreMetadata::default();
    let mut line = Vec::new();
    // The field being read, so that folded continuation lines can be appended to it.
    let mut current: Option<Field> = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            break;
        }
        if text.starts_with([' ', '\t']) {
            if let Some(field) = current {
                let value = field.slot(&mut metadata);
                if let Some(value) = value {
                    value.push(' ');
                    value.push_str(text.trim());
                }
            }
            continue;
        }
        current = None;
        if metadata.name.is_some() && metadata.version.is_some() {
            break;
        }
        let Some((key, value)) = text.split_once(':') else {
            continue;
        };
        let field = if key.trim().eq_ignore_ascii_case("name") {
            Field::Name
        } else if key.trim().eq_ignore_ascii_case("version") {
            Field::Version
        } else {
            continue;
        };
        let slot = field.slot(&mut metadata);
        if slot.is_none() {
            *slot = Some(value.trim().to_owned());
            current = Some(field);
        }
    }
    for value in [&mut metadata.name, &mut metadata.version] {
        if value
            .as_deref()
            .is_some_and(|text| text.trim().is_empty() || text.trim() == "UNKNOWN")
        {
            *value = None;
        } else if let Some(text) = value {
            *text = text.trim().to_owned();
        }
    }
    Ok(metadata)
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Name,
    Version,
}

impl Field {
    fn slot(self, metadata: &mut CoreMetadata) -> &mut Option<String> {
        match self {
            Field::Name => &mut metadata.name,
            Field::Version => &mut metadata.version,
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
