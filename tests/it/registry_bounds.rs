//! `registry update` against hostile indexes (issue #15, items 3 and 8), each a small
//! HTTP server on 127.0.0.1 written here: a 2 GiB `Content-Length`, an endless body, a zip
//! bomb, a login page served for a wheel, a wheel that does not match its `#sha256=`,
//! and a poisoned cache. Each run must fail cleanly (or recover), write nothing, and stay
//! under a memory bound measured with `wait4` on the child (no timing assertions).

use crate::support;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use support::python;
use support::wheel::{hex, sha256, wheel_bytes, WheelSpec};

const RELEASE: &str = "0.67b0";
/// The peak RSS a run may reach, in KiB: bodies are capped at 64 MiB, so anything near
/// this means a body or an entry was buffered whole.
const MEMORY_BOUND_KIB: i64 = 256 * 1024;

/// What the server answers for one path.
#[derive(Clone)]
enum Answer {
    Body(&'static str, Vec<u8>),
    /// Says `Content-Length: 2 GiB`, then sends zeros until the client hangs up.
    HugeLength,
    /// No length: zeros until the client hangs up.
    Endless,
    /// Says `Content-Length: 1000`, then sends one byte a second.
    Drip,
}

struct Server {
    address: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
    stopping: Arc<AtomicBool>,
}

impl Server {
    fn start(routes: HashMap<String, Answer>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let routes = Arc::new(Mutex::new(routes));
        let stopping = Arc::new(AtomicBool::new(false));
        let (shared, stop) = (Arc::clone(&routes), Arc::clone(&stopping));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let routes = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = answer(stream, &routes);
                });
            }
        });
        Server {
            address,
            routes,
            stopping,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/simple/", self.address)
    }

    fn set(&self, path: &str, answer: Answer) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.insert(path.to_owned(), answer);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
    }
}

fn answer(mut stream: TcpStream, routes: &Mutex<HashMap<String, Answer>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let found = routes
        .lock()
        .ok()
        .and_then(|routes| routes.get(&path).cloned());
    let zeros = vec![0u8; 64 * 1024];
    match found {
        None => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Some(Answer::Body(content_type, body)) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        Some(Answer::HugeLength) => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 2147483648\r\nConnection: close\r\n\r\n")?;
            loop {
                stream.write_all(&zeros)?;
            }
        }
        Some(Answer::Drip) => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")?;
            for _ in 0..1000 {
                stream.write_all(b"x")?;
                stream.flush()?;
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
            Ok(())
        }
        Some(Answer::Endless) => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")?;
            loop {
                stream.write_all(&zeros)?;
            }
        }
    }
}

/// A PEP 503 page linking `files` (name, sha256 or none) under `/files/`.
fn page(files: &[(&str, Option<String>)]) -> Answer {
    let mut html = String::from("<!DOCTYPE html><html><body>\n");
    for (name, digest) in files {
        let fragment = digest
            .as_ref()
            .map(|digest| format!("#sha256={digest}"))
            .unwrap_or_default();
        html.push_str(&format!(
            "<a href=\"/files/{name}{fragment}\">{name}</a><br/>\n"
        ));
    }
    html.push_str("</body></html>\n");
    Answer::Body("text/html", html.into_bytes())
}

fn core_wheel() -> WheelSpec {
    WheelSpec::new("opentelemetry-instrumentation", RELEASE).file(
        "opentelemetry/instrumentation/bootstrap_gen.py",
        format!("libraries = []\ndefault_instrumentations = [\"opentelemetry-instrumentation-asyncio=={RELEASE}\"]\n"),
    )
}

/// A one-release index: the core wheel (answered with `core`), linked with `digest`, and
/// the asyncio instrumentation.
fn index(core: Answer, digest: Option<String>) -> Server {
    let core_name = core_wheel().filename();
    let asyncio = WheelSpec::new("opentelemetry-instrumentation-asyncio", RELEASE)
        .requires(format!("opentelemetry-instrumentation=={RELEASE}"));
    let asyncio_name = asyncio.filename();
    let asyncio_bytes = wheel_bytes(&asyncio);
    let mut routes = HashMap::new();
    routes.insert(
        "/simple/opentelemetry-instrumentation/".to_owned(),
        page(&[(&core_name, digest)]),
    );
    routes.insert(
        "/simple/opentelemetry-instrumentation-asyncio/".to_owned(),
        page(&[(&asyncio_name, Some(hex(&sha256(&asyncio_bytes))))]),
    );
    routes.insert(format!("/files/{core_name}"), core);
    routes.insert(
        format!("/files/{asyncio_name}"),
        Answer::Body("application/octet-stream", asyncio_bytes),
    );
    Server::start(routes)
}

/// `registry update --release 0.67b0 --output <dir>/out` with the cache in `<dir>/cache`;
/// returns the output and the child's peak RSS in KiB.
fn update(server: &Server, dir: &Path) -> (std::process::Output, i64) {
    let mut command = python::command(dir);
    command
        .env("OTEL_BOOTSTRAP_REGISTRY_DIR", dir.join("user-registry"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .args(["registry", "update", "--release", RELEASE, "--index-url"])
        .arg(server.url())
        .arg("--output")
        .arg(dir.join("out"))
        .arg("--cache-dir")
        .arg(dir.join("cache"));
    run_measured(&mut command)
}

/// Runs `command` to completion for its own peak RSS (`support::memory`); the bound only
/// catches a hang.
fn run_measured(command: &mut Command) -> (std::process::Output, i64) {
    let measured =
        crate::support::memory::run_measured(command, std::time::Duration::from_secs(300));
    (measured.output, measured.max_rss_kib)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in files_in(dir) {
        if path.is_dir() {
            found.extend(all_files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[track_caller]
fn assert_clean_failure(output: &std::process::Output, rss: i64, dir: &Path, needle: &str) {
    let stderr = python::stderr(output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(stderr.contains("127.0.0.1"), "the URL is named: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(files_in(&dir.join("out")).is_empty(), "nothing written");
    assert!(
        rss < MEMORY_BOUND_KIB,
        "peak RSS {rss} KiB, bound {MEMORY_BOUND_KIB} KiB"
    );
}

#[test]
fn huge_and_endless_bodies_are_refused_within_the_memory_bound() {
    for (what, answer) in [("huge", Answer::HugeLength), ("endless", Answer::Endless)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = index(answer, None);
        let (output, rss) = update(&server, dir.path());
        assert_clean_failure(&output, rss, dir.path(), "larger than");
        assert!(
            all_files(&dir.path().join("cache")).is_empty(),
            "{what}: nothing cached"
        );
    }
}

#[test]
fn a_zip_bomb_is_refused_within_the_memory_bound() {
    // bootstrap_gen.py: 512 MiB of spaces, deflated to well under 1 MiB.
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    writer
        .start_file("opentelemetry/instrumentation/bootstrap_gen.py", options)
        .expect("start");
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..512 {
        writer.write_all(&chunk).expect("write");
    }
    writer
        .start_file(
            format!("opentelemetry_instrumentation-{RELEASE}.dist-info/METADATA"),
            zip::write::SimpleFileOptions::default(),
        )
        .expect("start");
    writer
        .write_all(
            format!(
                "Metadata-Version: 2.1\nName: opentelemetry-instrumentation\nVersion: {RELEASE}\n"
            )
            .as_bytes(),
        )
        .expect("write");
    let bomb = writer.finish().expect("finish").into_inner();
    assert!(bomb.len() < 4 * 1024 * 1024, "{}", bomb.len());

    let dir = tempfile::tempdir().expect("tempdir");
    let server = index(Answer::Body("application/octet-stream", bomb), None);
    let (output, rss) = update(&server, dir.path());
    assert_clean_failure(&output, rss, dir.path(), "bootstrap_gen.py");
    assert!(
        python::stderr(&output).contains("allowed"),
        "{}",
        python::stderr(&output)
    );
}

#[test]
fn a_login_page_for_a_wheel_is_never_cached_and_a_bad_cache_is_refetched() {
    let wheel = wheel_bytes(&core_wheel());
    let digest = hex(&sha256(&wheel));
    let login = Answer::Body(
        "text/html",
        b"<html><body>Please log in</body></html>".to_vec(),
    );

    // With the index's sha256: refused as not matching it.
    let dir = tempfile::tempdir().expect("tempdir");
    let server = index(login.clone(), Some(digest.clone()));
    let (output, rss) = update(&server, dir.path());
    assert_clean_failure(&output, rss, dir.path(), "sha256");
    assert!(all_files(&dir.path().join("cache")).is_empty());

    // Without one: refused as not a zip. Then the real wheel, at the same URL: fetched
    // (nothing bad was cached) and the release is written.
    let dir = tempfile::tempdir().expect("tempdir");
    let server = index(login, None);
    let (output, rss) = update(&server, dir.path());
    assert_clean_failure(&output, rss, dir.path(), "zip");
    server.set(
        &format!("/files/{}", core_wheel().filename()),
        Answer::Body("application/octet-stream", wheel.clone()),
    );
    let (output, _) = update(&server, dir.path());
    assert!(output.status.success(), "{}", python::stderr(&output));
    assert!(dir.path().join("out").join("0.67b0.json").is_file());

    // A poisoned cache (an older tool cached a login page): fetched again.
    let cached: Vec<PathBuf> = all_files(&dir.path().join("cache"))
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(&core_wheel().filename()))
        })
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    std::fs::write(&cached[0], b"<html>login</html>").expect("poison");
    std::fs::remove_dir_all(dir.path().join("out")).expect("clean");
    let (output, _) = update(&server, dir.path());
    assert!(output.status.success(), "{}", python::stderr(&output));
    assert_eq!(std::fs::read(&cached[0]).expect("cached"), wheel);
}

#[test]
fn output_removes_only_its_own_documents() {
    let wheel = wheel_bytes(&core_wheel());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let mine = r#"{"schema": 1, "release": "0.60b0", "instrumentations": []}"#;
    std::fs::write(out.join("0.60b0.json"), mine).expect("write");
    std::fs::write(out.join("1.0.json"), r#"{"name": "someone else's"}"#).expect("write");
    std::fs::write(out.join("2.0.json"), "not JSON").expect("write");
    let server = index(Answer::Body("application/octet-stream", wheel), None);
    // A full update (not --release) removes stale documents.
    let mut command = python::command(dir.path());
    command
        .env(
            "OTEL_BOOTSTRAP_REGISTRY_DIR",
            dir.path().join("user-registry"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost")
        .args([
            "registry",
            "update",
            "--from-release",
            RELEASE,
            "--index-url",
        ])
        .arg(server.url())
        .arg("--output")
        .arg(&out)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"));
    let output = python::output(&mut command);
    assert!(output.status.success(), "{}", python::stderr(&output));
    let names: Vec<String> = files_in(&out)
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["0.67b0.json", "1.0.json", "2.0.json"]);
}

/// The index serves PEP 658 metadata for the instrumentation (`data-core-metadata` with
/// `metadata_hash`) and answers `metadata` at `<wheel>.metadata`; the instrumentation
/// wheel itself is a login page, so a run that succeeds never used it.
fn index_with_metadata(metadata: Vec<u8>, metadata_hash: &str) -> Server {
    let core = core_wheel();
    let core_bytes = wheel_bytes(&core);
    let asyncio = WheelSpec::new("opentelemetry-instrumentation-asyncio", RELEASE);
    let asyncio_name = asyncio.filename();
    let mut routes = HashMap::new();
    routes.insert(
        "/simple/opentelemetry-instrumentation/".to_owned(),
        page(&[(&core.filename(), Some(hex(&sha256(&core_bytes))))]),
    );
    routes.insert(
        format!("/files/{}", core.filename()),
        Answer::Body("application/octet-stream", core_bytes),
    );
    routes.insert(
        "/simple/opentelemetry-instrumentation-asyncio/".to_owned(),
        Answer::Body(
            "text/html",
            format!("<a href=\"/files/{asyncio_name}\" data-core-metadata=\"sha256={metadata_hash}\">{asyncio_name}</a>\n")
                .into_bytes(),
        ),
    );
    routes.insert(
        format!("/files/{asyncio_name}"),
        Answer::Body("text/html", b"<html>login</html>".to_vec()),
    );
    routes.insert(
        format!("/files/{asyncio_name}.metadata"),
        Answer::Body("application/octet-stream", metadata),
    );
    Server::start(routes)
}

#[test]
fn pep_658_metadata_is_used_and_checked() {
    let metadata = format!(
        "Metadata-Version: 2.1\nName: opentelemetry-instrumentation-asyncio\nVersion: {RELEASE}\nRequires-Dist: opentelemetry-instrumentation=={RELEASE}\n"
    )
    .into_bytes();
    let digest = hex(&sha256(&metadata));

    let dir = tempfile::tempdir().expect("tempdir");
    let server = index_with_metadata(metadata.clone(), &digest);
    let (output, _) = update(&server, dir.path());
    assert!(output.status.success(), "{}", python::stderr(&output));
    assert!(dir.path().join("out").join("0.67b0.json").is_file());

    let dir = tempfile::tempdir().expect("tempdir");
    let server = index_with_metadata(metadata, &"0".repeat(64));
    let (output, rss) = update(&server, dir.path());
    assert_clean_failure(&output, rss, dir.path(), "sha256");

    let dir = tempfile::tempdir().expect("tempdir");
    let login = b"<html>login</html>".to_vec();
    let server = index_with_metadata(login.clone(), &hex(&sha256(&login)));
    let (output, rss) = update(&server, dir.path());
    assert_clean_failure(&output, rss, dir.path(), "not core metadata");
}

// ---------------------------------------------------------------------------------------
// Issue #20: page budgets, the deadline, the cache and the files written
// ---------------------------------------------------------------------------------------

/// A project page of tiny anchors, under the byte cap but over the link budget: refused
/// without building an entry per anchor, within the memory bound; a page over the byte
/// cap (60 MiB, the issue's) is refused as too large.
#[test]
fn a_page_of_tiny_anchors_is_refused_within_the_memory_bound() {
    let anchors = "<a href=x>y</a>".repeat(7 * 1024 * 1024 / 15);
    for (body, needle) in [
        (anchors.into_bytes(), "more than 20000 files"),
        (vec![b' '; 60 * 1024 * 1024], "larger than"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = index(Answer::Body("application/octet-stream", Vec::new()), None);
        server.set(
            "/simple/opentelemetry-instrumentation/",
            Answer::Body("text/html", body),
        );
        let (output, rss) = update(&server, dir.path());
        assert_clean_failure(&output, rss, dir.path(), needle);
    }
}

/// A server sending one byte a second: the deadline covers the whole body, so the run
/// ends with a message saying so (the bound only catches a hang).
#[test]
fn a_dripping_body_ends_at_the_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = index(Answer::Drip, None);
    let mut command = python::command(dir.path());
    command
        .env("OTEL_BOOTSTRAP_HTTP_TIMEOUT", "3")
        .env(
            "OTEL_BOOTSTRAP_REGISTRY_DIR",
            dir.path().join("user-registry"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .args(["registry", "update", "--release", RELEASE, "--index-url"])
        .arg(server.url())
        .arg("--output")
        .arg(dir.path().join("out"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache"));
    let measured =
        crate::support::memory::run_measured(&command, std::time::Duration::from_secs(120));
    assert_clean_failure(
        &measured.output,
        measured.max_rss_kib,
        dir.path(),
        "did not finish within 3 s",
    );
}

/// Cache entries replaced by a FIFO, a link to `/dev/zero` and a link to a FIFO: each is
/// a cache miss (no hang, no growth), fetched again and written back as a regular file.
#[test]
fn a_planted_cache_is_never_trusted() {
    let wheel = wheel_bytes(&core_wheel());
    let dir = tempfile::tempdir().expect("tempdir");
    let server = index(
        Answer::Body("application/octet-stream", wheel.clone()),
        None,
    );
    let (output, _) = update(&server, dir.path());
    assert!(output.status.success(), "{}", python::stderr(&output));
    let cached = all_files(&dir.path().join("cache"));
    assert!(!cached.is_empty());
    for plant in ["fifo", "zero", "link-to-fifo"] {
        let fifo = dir.path().join("a-fifo");
        let _ = std::fs::remove_file(&fifo);
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success());
        for path in &cached {
            let _ = std::fs::remove_file(path);
            match plant {
                "fifo" => assert!(Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .expect("mkfifo")
                    .success()),
                "zero" => std::os::unix::fs::symlink("/dev/zero", path).expect("link"),
                _ => std::os::unix::fs::symlink(&fifo, path).expect("link"),
            }
        }
        std::fs::remove_dir_all(dir.path().join("out")).expect("clean");
        let (output, rss) = update(&server, dir.path());
        assert!(
            output.status.success(),
            "{plant}: {}",
            python::stderr(&output)
        );
        assert!(rss < MEMORY_BOUND_KIB, "{plant}: peak RSS {rss} KiB");
        for path in &cached {
            let status = std::fs::symlink_metadata(path).expect("written back");
            assert!(
                status.is_file(),
                "{plant}: {} is a regular file again",
                path.display()
            );
        }
    }
}

/// Links planted in a shared `--output` directory, at the release file's own name and at
/// the temporary names older versions used, never redirect a write: their targets are
/// untouched, and the release file is a new regular file.
#[test]
fn planted_links_never_redirect_a_write() {
    let wheel = wheel_bytes(&core_wheel());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let victims: Vec<PathBuf> = (0..3)
        .map(|index| dir.path().join(format!("victim-{index}")))
        .collect();
    for victim in &victims {
        std::fs::write(victim, "precious").expect("victim");
    }
    std::os::unix::fs::symlink(&victims[0], out.join(format!("{RELEASE}.json"))).expect("link");
    // The old predictable names, for the next few process ids.
    let next = std::process::id();
    for pid in next..next + 200 {
        let _ =
            std::os::unix::fs::symlink(&victims[1], out.join(format!(".{RELEASE}.json.tmp-{pid}")));
    }
    let server = index(Answer::Body("application/octet-stream", wheel), None);
    let (output, _) = update(&server, dir.path());
    assert!(output.status.success(), "{}", python::stderr(&output));
    for victim in &victims {
        assert_eq!(std::fs::read_to_string(victim).expect("victim"), "precious");
    }
    let written = std::fs::symlink_metadata(out.join(format!("{RELEASE}.json"))).expect("written");
    assert!(written.is_file(), "replaced the link, not its target");
}
