//! What a site-packages entry's name says: which kind of distribution folder it is, and
//! which project it may hold.

/// The kinds of entry that hold an installed distribution's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FolderKind {
    /// `name-version.dist-info/METADATA` (wheels, editable installs).
    DistInfo,
    /// `name-version[-pyX.Y].egg-info`: a directory with `PKG-INFO`, or a `PKG-INFO` file.
    EggInfo,
    /// `name-version[-pyX.Y].egg/EGG-INFO/PKG-INFO`.
    Egg,
}

/// A byte-level check that `file_name` ends like a metadata folder (`.dist-info`,
/// `.egg-info`, `.egg`, in any case), run on every entry before anything else.
pub(crate) fn may_hold_metadata(file_name: &[u8]) -> bool {
    [b".dist-info".as_slice(), b".egg-info", b".egg"]
        .iter()
        .any(|suffix| {
            file_name.len() > suffix.len()
                && file_name[file_name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        })
}

/// Classifies an entry by its name, returning the part before the suffix. Entries that
/// start with `~` are pip's leftovers from an interrupted uninstall and are ignored.
pub(crate) fn classify(file_name: &str) -> Option<(FolderKind, &str)> {
    if file_name.starts_with('~') {
        return None;
    }
    let suffixes = [
        (".dist-info", FolderKind::DistInfo),
        (".egg-info", FolderKind::EggInfo),
        (".egg", FolderKind::Egg),
    ];
    suffixes.into_iter().find_map(|(suffix, kind)| {
        let stem = strip_suffix_ignore_case(file_name, suffix)?;
        (!stem.is_empty()).then_some((kind, stem))
    })
}

/// Whether any normalized project name a folder stem may stand for passes `matches`: the
/// whole stem (`Flask.egg-info`) and every prefix that ends before a `-`
/// (`tortoise_orm-0.21.0`, `PyYAML-6.0-py3.11`, and legacy names with a `-` of their own).
///
/// This runs for every entry of site-packages, so it normalizes into one reused buffer and
/// tests each prefix as a slice of it, without allocating.
pub(crate) fn any_name_candidate(
    stem: &str,
    buffer: &mut String,
    mut matches: impl FnMut(&str) -> bool,
) -> bool {
    buffer.clear();
    let mut previous_separator = false;
    for character in stem.chars() {
        if matches!(character, '-' | '_' | '.') {
            if character == '-' && !previous_separator && !buffer.is_empty() && matches(buffer) {
                return true;
            }
            if !previous_separator {
                buffer.push('-');
            }
            previous_separator = true;
        } else {
            if character.is_ascii() {
                buffer.push(character.to_ascii_lowercase());
            } else {
                buffer.extend(character.to_lowercase());
            }
            previous_separator = false;
        }
    }
    matches(buffer)
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let split = text.len().checked_sub(suffix.len())?;
    if !text.is_char_boundary(split) {
        return None;
    }
    let (stem, tail) = text.split_at(split);
    tail.eq_ignore_ascii_case(suffix).then_some(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(stem: &str) -> Vec<String> {
        let mut found = Vec::new();
        any_name_candidate(stem, &mut String::new(), |candidate| {
            found.push(candidate.to_owned());
            false
        });
        found
    }

    #[test]
    fn classifies_entries() {
        assert_eq!(
            classify("Flask-3.0.0.dist-info"),
            Some((FolderKind::DistInfo, "Flask-3.0.0"))
        );
        assert_eq!(
            classify("PyYAML-6.0-py3.11.egg-info"),
            Some((FolderKind::EggInfo, "PyYAML-6.0-py3.11"))
        );
        assert_eq!(
            classify("six-1.16.0-py3.11.egg"),
            Some((FolderKind::Egg, "six-1.16.0-py3.11"))
        );
        assert_eq!(classify("~lask-3.0.0.dist-info"), None);
        assert_eq!(classify("flask"), None);
        assert_eq!(classify(".dist-info"), None);
        assert_eq!(classify("__editable__.foo-1.0.pth"), None);
        assert_eq!(
            classify("caf\u{e9}-1.0.DIST-INFO"),
            Some((FolderKind::DistInfo, "caf\u{e9}-1.0"))
        );
    }

    #[test]
    fn finds_name_candidates() {
        assert_eq!(candidates("Flask-3.0.0"), ["flask", "flask-3-0-0"]);
        assert_eq!(
            candidates("tortoise_orm-0.21.0"),
            ["tortoise-orm", "tortoise-orm-0-21-0"]
        );
        assert_eq!(candidates("Flask"), ["flask"]);
        assert_eq!(
            candidates("PyYAML-6.0-py3.11"),
            ["pyyaml", "pyyaml-6-0", "pyyaml-6-0-py3-11"]
        );
        assert_eq!(
            candidates("confluent-kafka-2.3.0"),
            ["confluent", "confluent-kafka", "confluent-kafka-2-3-0"]
        );
    }
}
