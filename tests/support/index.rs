//! A PEP 503 / PEP 691 simple package index on 127.0.0.1, serving a directory of files.
//!
//! Real HTTP/1.1 over `std::net` (one thread per connection, `Connection: close`), so real
//! pip and uv can install from it. The directory is listed on every request, so files
//! added after start are served. Routes:
//!
//! - `GET /simple/`: the project list (HTML, or PEP 691 JSON when asked for);
//! - `GET /simple/<project>/`: the project's files, linked as `/files/<name>#sha256=<hex>`;
//! - `GET /files/<name>`: the file, with `Range: bytes=a-b` / `bytes=a-` / `bytes=-n`;
//! - `HEAD` for all of these; `404` for anything else.
//!
//! Projects are found by parsing wheel and sdist file names. [`Faults`] injects errors
//! and yanked files; every request is recorded (see [`IndexServer::requests`]).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::wheel::{hex, normalize_name, sha256};

const JSON_CONTENT_TYPE: &str = "application/vnd.pypi.simple.v1+json";

/// Errors and quirks to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Respond with this status (and an empty body) to requests whose path starts with
    /// the prefix, e.g. `("/files/foo-1.0-py3-none-any.whl", 500)`. The first match wins.
    pub status_for_path: Vec<(String, u16)>,
    /// File names listed as yanked (`data-yanked` / `"yanked": true`).
    pub yanked: Vec<String>,
    /// Never answer JSON, even when asked for it (a PEP 503-only index).
    pub html_only: bool,
}

/// A running index; stops when dropped.
pub struct IndexServer {
    address: std::net::SocketAddr,
    stopping: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    accept_thread: Option<JoinHandle<()>>,
}

struct Shared {
    root: PathBuf,
    faults: Faults,
    requests: Arc<Mutex<Vec<String>>>,
}

impl IndexServer {
    /// Serves `dir` with no faults.
    pub fn start(dir: &Path) -> IndexServer {
        Self::start_with(dir, Faults::default())
    }

    /// Serves `dir`, injecting `faults`.
    pub fn start_with(dir: &Path, faults: Faults) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let stopping = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            root: dir.to_path_buf(),
            faults,
            requests: Arc::clone(&requests),
        });
        let stopping_flag = Arc::clone(&stopping);
        let accept_thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = handle_connection(stream, &shared);
                });
            }
        });
        IndexServer {
            address,
            stopping,
            requests,
            accept_thread: Some(accept_thread),
        }
    }

    /// The simple index URL, e.g. `http://127.0.0.1:PORT/simple/`.
    pub fn url(&self) -> String {
        format!("http://{}/simple/", self.address)
    }

    /// Every request so far, as `"METHOD /path"`, in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The number of requests so far.
    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or_default()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.clear();
        }
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Unblock `accept`.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    extra_headers: Vec<String>,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            body,
            extra_headers: Vec::new(),
        }
    }
}

fn handle_connection(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    // Drain a request body, if any (none of our routes use one).
    if let Some(length) = header("content-length").and_then(|v| v.parse::<u64>().ok()) {
        std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink())?;
    }

    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or_default());
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(format!("{method} {path}"));
    }

    let wants_json = !shared.faults.html_only
        && header("accept").is_some_and(|accept| accept.contains(JSON_CONTENT_TYPE));
    let response = if let Some((_, status)) = shared
        .faults
        .status_for_path
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_str()))
    {
        Response::new(
            *status,
            "text/plain",
            format!("injected {status}\n").into_bytes(),
        )
    } else if method != "GET" && method != "HEAD" {
        Response::new(405, "text/plain", b"method not allowed\n".to_vec())
    } else {
        route(shared, &path, wants_json, header("range"))
    };
    write_response(stream, &method, response)
}

fn route(shared: &Shared, path: &str, wants_json: bool, range: Option<&str>) -> Response {
    let not_found = || Response::new(404, "text/plain", b"not found\n".to_vec());
    let files = list_files(&shared.root);
    if path == "/simple/" || path == "/simple" {
        let mut projects: Vec<String> = files.iter().map(|(project, _)| project.clone()).collect();
        projects.sort();
        projects.dedup();
        return project_list(&projects, wants_json);
    }
    if let Some(project) = path.strip_prefix("/simple/") {
        let project = normalize_name(project.trim_end_matches('/'));
        let mut matching: Vec<&str> = files
            .iter()
            .filter(|(name, _)| *name == project)
            .map(|(_, filename)| filename.as_str())
            .collect();
        if matching.is_empty() {
            return not_found();
        }
        matching.sort();
        return project_page(shared, &project, &matching, wants_json);
    }
    if let Some(filename) = path.strip_prefix("/files/") {
        if filename.contains('/') || filename.contains("..") {
            return not_found();
        }
        let Ok(contents) = std::fs::read(shared.root.join(filename)) else {
            return not_found();
        };
        return file_response(contents, range);
    }
    not_found()
}

fn project_list(projects: &[String], wants_json: bool) -> Response {
    if wants_json {
        let body = serde_json::json!({
            "meta": {"api-version": "1.0"},
            "projects": projects.iter().map(|name| serde_json::json!({"name": name})).collect::<Vec<_>>(),
        });
        return Response::new(200, JSON_CONTENT_TYPE, body.to_string().into_bytes());
    }
    let mut html = String::from(
        "<!DOCTYPE html>\n<html>\n<head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Simple index</title></head>\n<body>\n",
    );
    for project in projects {
        html.push_str(&format!(
            "<a href=\"/simple/{project}/\">{project}</a><br/>\n"
        ));
    }
    html.push_str("</body>\n</html>\n");
    Response::new(200, "text/html; charset=utf-8", html.into_bytes())
}

fn project_page(shared: &Shared, project: &str, filenames: &[&str], wants_json: bool) -> Response {
    let entries: Vec<(&str, String, bool)> = filenames
        .iter()
        .map(|filename| {
            let digest = std::fs::read(shared.root.join(filename))
                .map(|contents| hex(&sha256(&contents)))
                .unwrap_or_default();
            let yanked = shared.faults.yanked.iter().any(|name| name == filename);
            (*filename, digest, yanked)
        })
        .collect();
    if wants_json {
        let files: Vec<serde_json::Value> = entries
            .iter()
            .map(|(filename, digest, yanked)| {
                serde_json::json!({
                    "filename": filename,
                    "url": format!("/files/{filename}"),
                    "hashes": {"sha256": digest},
                    "yanked": yanked,
                })
            })
            .collect();
        let body = serde_json::json!({
            "meta": {"api-version": "1.0"},
            "name": project,
            "files": files,
        });
        return Response::new(200, JSON_CONTENT_TYPE, body.to_string().into_bytes());
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n<head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {project}</title></head>\n<body>\n<h1>Links for {project}</h1>\n"
    );
    for (filename, digest, yanked) in &entries {
        let yanked_attribute = if *yanked { " data-yanked=\"\"" } else { "" };
        html.push_str(&format!(
            "<a href=\"/files/{filename}#sha256={digest}\"{yanked_attribute}>{filename}</a><br/>\n"
        ));
    }
    html.push_str("</body>\n</html>\n");
    Response::new(200, "text/html; charset=utf-8", html.into_bytes())
}

fn file_response(contents: Vec<u8>, range: Option<&str>) -> Response {
    let length = contents.len() as u64;
    let Some(spec) = range.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return Response::new(200, "application/octet-stream", contents);
    };
    let bounds = spec.split_once('-').and_then(|(start, end)| {
        let (start, end) = (start.trim(), end.trim());
        match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
            (None, Some(suffix)) if start.is_empty() && suffix > 0 => {
                Some((length.saturating_sub(suffix), length.checked_sub(1)?))
            }
            (Some(first), None) if end.is_empty() && first < length => Some((first, length - 1)),
            (Some(first), Some(last)) if first <= last && first < length => {
                Some((first, last.min(length - 1)))
            }
            _ => None,
        }
    });
    let Some((first, last)) = bounds else {
        let mut response = Response::new(416, "text/plain", Vec::new());
        response
            .extra_headers
            .push(format!("Content-Range: bytes */{length}"));
        return response;
    };
    let mut response = Response::new(
        206,
        "application/octet-stream",
        contents[first as usize..=last as usize].to_vec(),
    );
    response
        .extra_headers
        .push(format!("Content-Range: bytes {first}-{last}/{length}"));
    response
}

fn write_response(mut stream: TcpStream, method: &str, response: Response) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    for header in &response.extra_headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&response.body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// `(normalized project, file name)` for every wheel and sdist directly in `root`.
fn list_files(root: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|filename| Some((project_of(&filename)?, filename)))
        .collect()
}

/// The normalized project name of a wheel (`name-version-...whl`) or sdist
/// (`name-version.tar.gz` / `.zip`) file name.
pub fn project_of(filename: &str) -> Option<String> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let (name, _) = stem.split_once('-')?;
        return Some(normalize_name(name));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    let (name, _) = stem.rsplit_once('-')?;
    Some(normalize_name(name))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let digits = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
            if let Ok(value) = u8::from_str_radix(digits, 16) {
                decoded.push(value);
                index += 3;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
