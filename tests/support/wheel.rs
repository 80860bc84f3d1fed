//! Builds small, valid `py3-none-any` wheels for tests.
//!
//! A wheel built here installs with real pip and uv: it has `METADATA`, `WHEEL` and a
//! `RECORD` with correct sha256 digests and sizes. Archives are deterministic (fixed
//! timestamps, entries in a fixed order), so the same spec always yields the same bytes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What to put in a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelSpec {
    /// The project name as written in `METADATA` (any spelling; normalized for file names).
    pub name: String,
    pub version: String,
    /// Full `Requires-Dist` values, e.g. `flask>=1.0; extra == "instruments"`.
    pub requires_dist: Vec<String>,
    /// Extra files (archive path, contents). When empty, a `<name>/__init__.py` is added
    /// so the package is importable.
    pub files: Vec<(String, Vec<u8>)>,
}

impl WheelSpec {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            requires_dist: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Adds one `Requires-Dist` value.
    pub fn requires(mut self, requirement: impl Into<String>) -> Self {
        self.requires_dist.push(requirement.into());
        self
    }

    /// Adds a file at `path` inside the wheel.
    pub fn file(mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.into(), contents.into()));
        self
    }

    /// `{name}-{version}-py3-none-any.whl` with the name normalized and `-` as `_`.
    pub fn filename(&self) -> String {
        format!(
            "{}-{}-py3-none-any.whl",
            wheel_name(&self.name),
            self.version
        )
    }
}

/// The PEP 503 normalized form of a project name: runs of `-`, `_`, `.` become `-`,
/// lowercase.
pub fn normalize_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut last_was_separator = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !last_was_separator {
                normalized.push('-');
            }
            last_was_separator = true;
        } else {
            normalized.push(character.to_ascii_lowercase());
            last_was_separator = false;
        }
    }
    normalized
}

/// The name as it appears in wheel file names and `.dist-info` directories.
fn wheel_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

/// Writes the wheel into `out_dir` (created if missing) and returns its path.
pub fn build_wheel(spec: &WheelSpec, out_dir: &Path) -> PathBuf {
    std::fs::create_dir_all(out_dir).expect("create wheel output directory");
    let path = out_dir.join(spec.filename());
    std::fs::write(&path, wheel_bytes(spec)).expect("write wheel");
    path
}

/// The wheel archive as bytes.
pub fn wheel_bytes(spec: &WheelSpec) -> Vec<u8> {
    let dist_info = format!("{}-{}.dist-info", wheel_name(&spec.name), spec.version);

    let mut metadata = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
        spec.name, spec.version
    );
    let mut extras: Vec<String> = Vec::new();
    for requirement in &spec.requires_dist {
        if let Some(extra) = extra_of(requirement) {
            if !extras.contains(&extra) {
                extras.push(extra);
            }
        }
    }
    for extra in &extras {
        metadata.push_str(&format!("Provides-Extra: {extra}\n"));
    }
    for requirement in &spec.requires_dist {
        metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    let wheel = "Wheel-Version: 1.0\nGenerator: otel-bootstrap-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n";

    let mut entries: Vec<(String, Vec<u8>)> = if spec.files.is_empty() {
        vec![(
            format!("{}/__init__.py", wheel_name(&spec.name)),
            b"".to_vec(),
        )]
    } else {
        spec.files.clone()
    };
    entries.push((format!("{dist_info}/METADATA"), metadata.into_bytes()));
    entries.push((format!("{dist_info}/WHEEL"), wheel.as_bytes().to_vec()));

    let mut record = String::new();
    for (path, contents) in &entries {
        record.push_str(&format!(
            "{path},sha256={},{}\n",
            base64_urlsafe_no_padding(&sha256(contents)),
            contents.len()
        ));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    entries.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (path, contents) in &entries {
        writer.start_file(path, options).expect("start zip entry");
        writer.write_all(contents).expect("write zip entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

/// The extra named by an `extra == "..."` marker, if any.
fn extra_of(requirement: &str) -> Option<String> {
    let (_, marker) = requirement.split_once(';')?;
    let position = marker.find("extra")?;
    let rest = marker[position + "extra".len()..].trim_start();
    let rest = rest.strip_prefix("==")?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    Some(value[..end].to_owned())
}

/// RFC 4648 base64 with the URL-safe alphabet and no padding (as `RECORD` wants).
pub fn base64_urlsafe_no_padding(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for index in 0..=chunk.len() {
            encoded.push(char::from(
                ALPHABET[(group >> (18 - 6 * index) & 63) as usize],
            ));
        }
    }
    encoded
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// SHA-256 (FIPS 180-4). Small and slow; fine for test fixtures.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut state: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());

    for block in message.chunks(64) {
        let mut schedule = [0u32; 64];
        for (index, word) in block.chunks(4).enumerate() {
            schedule[index] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for index in 16..64 {
            let s0 = schedule[index - 15].rotate_right(7)
                ^ schedule[index - 15].rotate_right(18)
                ^ (schedule[index - 15] >> 3);
            let s1 = schedule[index - 2].rotate_right(17)
                ^ schedule[index - 2].rotate_right(19)
                ^ (schedule[index - 2] >> 10);
            schedule[index] = schedule[index - 16]
                .wrapping_add(s0)
                .wrapping_add(schedule[index - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for index in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choice = (e & f) ^ (!e & g);
            let temporary1 = h
                .wrapping_add(s1)
                .wrapping_add(choice)
                .wrapping_add(K[index])
                .wrapping_add(schedule[index]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let temporary2 = s0.wrapping_add(majority);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(temporary1);
            d = c;
            c = b;
            b = a;
            a = temporary1.wrapping_add(temporary2);
        }
        for (word, value) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *word = word.wrapping_add(value);
        }
    }

    let mut digest = [0u8; 32];
    for (chunk, word) in digest.chunks_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

#[test]
fn sha256_and_base64_known_answers() {
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(base64_urlsafe_no_padding(b"\xfb\xff"), "-_8");
    assert_eq!(base64_urlsafe_no_padding(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_urlsafe_no_padding(b"fo"), "Zm8");
    assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
}
