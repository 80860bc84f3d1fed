//! Embeds every `data/releases/*.json` file in the binary.
//!
//! Writes `$OUT_DIR/bundled_releases.rs`: a sorted table of `(file stem, contents)` where
//! the contents come from `include_str!`, so the registry costs no I/O at run time and a
//! release is parsed only when a run needs it.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let releases_dir = Path::new(&manifest_dir).join("data").join("releases");
    println!("cargo:rerun-if-changed={}", releases_dir.display());

    let mut stems = Vec::new();
    for entry in std::fs::read_dir(&releases_dir).expect("data/releases exists") {
        let path = entry.expect("readable data/releases entry").path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            println!("cargo:rerun-if-changed={}", path.display());
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("UTF-8 file name");
            stems.push((stem.to_owned(), path.clone()));
        }
    }
    stems.sort();

    let mut source = String::from("pub(crate) static BUNDLED_RELEASES: &[(&str, &str)] = &[\n");
    for (stem, path) in &stems {
        writeln!(
            source,
            "    ({stem:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    source.push_str("];\n");

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("bundled_releases.rs"), source)
        .expect("write bundled_releases.rs");
}
