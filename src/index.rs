//! A small blocking client for a PEP 503 / PEP 691 "simple" package index.
//!
//! [`IndexClient::project_files`] lists a project's files (PEP 691 JSON when the index
//! offers it, PEP 503 HTML otherwise); [`IndexClient::download`] fetches a file, and
//! [`IndexClient::wheel_metadata`] a wheel's `METADATA` (from the PEP 658 `.metadata`
//! file when the index has one, else from the wheel itself).
//!
//! Requests time out (10 s to connect, 30 s in all) and are retried with exponential
//! backoff on connection errors, timeouts, `429` and `5xx` (three tries in all). TLS uses
//! rustls with the platform verifier (the OS store; `SSL_CERT_FILE` / `SSL_CERT_DIR` are
//! honoured) and is never disabled.
//!
//! Distribution files never change once uploaded, so everything fetched by `download`
//! and `wheel_metadata` is cached on disk, keyed by file name and a hash of the URL; a
//! second run fetches only the project pages, which are always fetched afresh. The cache
//! is best effort: a cache that cannot be written is skipped, never an error.
//!
//! Everything read is bounded and checked (the index may be a captive portal, a proxy
//! login page or hostile): bodies are streamed and refused beyond [`MAXIMUM_PAGE_BYTES`] /
//! [`MAXIMUM_FILE_BYTES`] (a larger `Content-Length` is refused before reading), zip
//! entries beyond [`MAXIMUM_ENTRY_BYTES`] or a compression ratio of
//! [`MAXIMUM_COMPRESSION_RATIO`], and a download enters the cache only when it is what it
//! claims to be: a zip for a wheel, core metadata for a `METADATA`, and the `sha256` the
//! index gave (the `#sha256=` fragment, PEP 691 `hashes`, PEP 658/714 metadata hashes)
//! when it gave one. A cached file that fails the same checks is fetched again.
//!
//! Every URL in an error is passed through [`redact_url`] first.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
/// The URL type of the index client (re-exported for the fuzz targets).
pub use reqwest::Url;

/// The `Accept` header for project pages: PEP 691 JSON, with HTML as the fallback.
const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Overrides [`REQUEST_TIMEOUT`] (seconds, e.g. `2` or `0.5`): for slow mirrors, and for
/// the tests' slow-server case.
const TIMEOUT_ENV: &str = "OTEL_BOOTSTRAP_HTTP_TIMEOUT";

/// The whole-request timeout: [`TIMEOUT_ENV`] when it is a positive number of seconds.
fn request_timeout() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0 && *seconds < 86_400.0)
        .map_or(REQUEST_TIMEOUT, Duration::from_secs_f64)
}
/// The largest project page read. The client reads only OpenTelemetry projects, whose
/// pages are tens of KB (`opentelemetry-instrumentation`'s, the largest, about 150 KB).
pub(crate) const MAXIMUM_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// The most links (files) one project page may list; each counts, kept or not.
pub const MAXIMUM_PAGE_ENTRIES: usize = 20_000;
/// The largest distribution or metadata file read (instrumentation wheels are tens of KB).
pub(crate) const MAXIMUM_FILE_BYTES: u64 = crate::untrusted::CACHE_CAP;
/// The largest file read out of a wheel, uncompressed (a `METADATA` is a few KB).
pub(crate) const MAXIMUM_ENTRY_BYTES: u64 = 4 * 1024 * 1024;
/// What one run may read from the index in all: bytes of bodies, and page links.
pub(crate) const MAXIMUM_RUN_BYTES: u64 = 1024 * 1024 * 1024;
/// See [`MAXIMUM_RUN_BYTES`].
pub(crate) const MAXIMUM_RUN_ENTRIES: u64 = 1_000_000;
/// The most requests one client has in flight at once (each holds at most one body of
/// [`MAXIMUM_FILE_BYTES`] or [`MAXIMUM_PAGE_BYTES`]): with the parsed entries and a wheel's
/// `METADATA`, peak memory stays under the documented 256 MiB.
pub(crate) const MAXIMUM_IN_FLIGHT: usize = 8;
/// The size of one read of a body.
const CHUNK_BYTES: usize = 64 * 1024;
/// The highest compression ratio accepted for a wheel entry above 64 KiB.
pub(crate) const MAXIMUM_COMPRESSION_RATIO: u64 = 100;

/// Tries per request, the first included.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// An error talking to the index. URLs are redacted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IndexError {
    #[error("invalid index URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
    #[error("request to {url} failed: {message}")]
    Request { url: String, message: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("could not parse the index page {url}: {reason}")]
    Page { url: String, reason: String },
    #[error("could not read {url} as a wheel: {reason}")]
    Wheel { url: String, reason: String },
    #[error("{url} is larger than the {limit} bytes allowed")]
    TooLarge { url: String, limit: u64 },
    #[error("{url} is not what the index said: {reason}")]
    Invalid { url: String, reason: String },
    #[error("request to {url} did not finish within {seconds} s (the deadline covers connecting, the headers and the whole body; `{TIMEOUT_ENV}` sets it)")]
    Deadline { url: String, seconds: f64 },
    #[error(
        "stopped before {url}: this run has read {what} from the index, the most one run reads"
    )]
    Budget { url: String, what: String },
}

/// What one client (one run) has read so far, shared by its clones and threads, and how
/// many requests it has in flight.
#[derive(Debug, Default)]
struct RunBudget {
    bytes: std::sync::atomic::AtomicU64,
    entries: std::sync::atomic::AtomicU64,
    in_flight: Mutex<usize>,
    slot_freed: std::sync::Condvar,
}

impl RunBudget {
    /// Counts `count` more bytes; `Err` with what was exceeded.
    fn spend_bytes(&self, count: u64) -> Result<(), String> {
        spend(&self.bytes, count, MAXIMUM_RUN_BYTES, "bytes")
    }

    /// Counts `count` more page links; `Err` with what was exceeded.
    fn spend_entries(&self, count: u64) -> Result<(), String> {
        spend(&self.entries, count, MAXIMUM_RUN_ENTRIES, "page links")
    }

    /// Waits for one of the [`MAXIMUM_IN_FLIGHT`] request slots; freed when the guard drops.
    fn slot(&self) -> Slot<'_> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *in_flight >= MAXIMUM_IN_FLIGHT {
            in_flight = self
                .slot_freed
                .wait(in_flight)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *in_flight += 1;
        Slot { budget: self }
    }
}

/// Adds `count` to `counter`; `Err` naming the budget once the total passes `maximum`.
fn spend(
    counter: &std::sync::atomic::AtomicU64,
    count: u64,
    maximum: u64,
    unit: &str,
) -> Result<(), String> {
    let total = counter.fetch_add(count, std::sync::atomic::Ordering::Relaxed) + count;
    if total > maximum {
        return Err(format!("{maximum} {unit}"));
    }
    Ok(())
}

/// One request slot of a [`RunBudget`].
struct Slot<'a> {
    budget: &'a RunBudget,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .budget
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *in_flight = in_flight.saturating_sub(1);
        self.budget.slot_freed.notify_one();
    }
}

/// One file listed on a project page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute URL, without the `#sha256=` fragment.
    pub url: String,
    pub yanked: bool,
    /// Whether the index serves the wheel's `METADATA` at `<url>.metadata` (PEP 658/714).
    pub core_metadata: bool,
    /// The file's sha256 (lowercase hex), when the index gave it.
    pub sha256: Option<String>,
    /// The sha256 of `<url>.metadata`, when the index gave it.
    pub metadata_sha256: Option<String>,
}

impl IndexFile {
    /// Whether the file is a wheel.
    pub(crate) fn is_wheel(&self) -> bool {
        self.filename.ends_with(".whl")
    }

    /// The version part of a wheel or sdist file name (unparsed), if it has one.
    pub(crate) fn version_text(&self) -> Option<&str> {
        if let Some(stem) = self.filename.strip_suffix(".whl") {
            return stem.split('-').nth(1);
        }
        let stem = self
            .filename
            .strip_suffix(".tar.gz")
            .or_else(|| self.filename.strip_suffix(".zip"))?;
        stem.rsplit_once('-').map(|(_, version)| version)
    }
}

/// A blocking client for one index.
#[derive(Debug, Clone)]
pub(crate) struct IndexClient {
    http: reqwest::blocking::Client,
    index_url: Url,
    cache_dir: Option<PathBuf>,
    budget: Arc<RunBudget>,
}

impl IndexClient {
    /// A client for the simple index at `index_url` (e.g. `https://pypi.org/simple/`),
    /// without a cache.
    pub(crate) fn new(index_url: &str) -> Result<Self, IndexError> {
        let invalid = |reason: String| IndexError::InvalidUrl {
            url: redact_url(index_url),
            reason,
        };
        let mut url = Url::parse(index_url).map_err(|error| invalid(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http and https are supported".to_owned()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        // reqwest is built without a default crypto provider; install ring once. An
        // error means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("otel-bootstrap/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT.min(request_timeout()))
            .timeout(request_timeout())
            .dns_resolver(Arc::new(SharedResolver::default()))
            .build()
            .map_err(|error| IndexError::Client(error_chain(&error.without_url())))?;
        Ok(Self {
            http,
            index_url: url,
            cache_dir: None,
            budget: Arc::default(),
        })
    }

    /// Caches downloaded files under `cache_dir` (see [`default_cache_dir`]).
    pub(crate) fn with_cache_dir(mut self, cache_dir: Option<PathBuf>) -> Self {
        self.cache_dir = cache_dir;
        self
    }

    /// The index URL (always ending in `/`), redacted.
    pub(crate) fn index_url(&self) -> String {
        redact_url(self.index_url.as_str())
    }

    /// The files of `project` (any spelling; normalized per PEP 503), in index order.
    ///
    /// A project the index does not have (`404`) has no files: `Ok(vec![])`.
    pub(crate) fn project_files(&self, project: &str) -> Result<Vec<IndexFile>, IndexError> {
        let page_url = self
            .index_url
            .join(&format!("{}/", normalize_name(project)))
            .map_err(|error| IndexError::InvalidUrl {
                url: redact_url(self.index_url.as_str()),
                reason: error.to_string(),
            })?;
        let Some(page) = self.get(&page_url, Some(SIMPLE_ACCEPT), MAXIMUM_PAGE_BYTES)? else {
            return Ok(Vec::new());
        };
        let parse_error = |reason: String| IndexError::Page {
            url: redact_url(page_url.as_str()),
            reason,
        };
        let files = if page.content_type.contains("json") {
            parse_json_page(&page.body, &page.final_url)
        } else {
            let text = String::from_utf8_lossy(&page.body);
            parse_html_page(&text, &page.final_url)
        }
        .map_err(parse_error)?;
        drop(page);
        self.budget
            .spend_entries(files.links as u64)
            .map_err(|what| IndexError::Budget {
                url: redact_url(page_url.as_str()),
                what,
            })?;
        Ok(files.files)
    }

    /// The bytes of `file` (cached), checked against its sha256 when the index gave one,
    /// and as a zip when it is a wheel.
    pub(crate) fn download_file(&self, file: &IndexFile) -> Result<Vec<u8>, IndexError> {
        let kind = if file.is_wheel() {
            Expected::Wheel
        } else {
            Expected::Any
        };
        self.download_checked(&file.url, file.sha256.as_deref(), kind)
    }

    fn download_checked(
        &self,
        url: &str,
        sha256: Option<&str>,
        kind: Expected,
    ) -> Result<Vec<u8>, IndexError> {
        let parsed = parse_url(url)?;
        let cache_path = self.cache_path(&parsed, "");
        if let Some(contents) = read_cache(cache_path.as_deref()) {
            if check(&contents, sha256, kind).is_ok() {
                return Ok(contents);
            }
        }
        let contents = self.fetch_file(&parsed)?;
        check(&contents, sha256, kind).map_err(|reason| IndexError::Invalid {
            url: redact_url(url),
            reason,
        })?;
        if let Some(path) = cache_path {
            write_cache(&path, &contents);
        }
        Ok(contents)
    }

    /// The `METADATA` of a wheel: `<url>.metadata` when the index advertises it (PEP
    /// 658), otherwise read from the downloaded wheel. Only the `METADATA` is cached,
    /// not the wheel.
    pub(crate) fn wheel_metadata(&self, file: &IndexFile) -> Result<String, IndexError> {
        if file.core_metadata {
            let metadata = self.download_checked(
                &format!("{}.metadata", file.url),
                file.metadata_sha256.as_deref(),
                Expected::Metadata,
            )?;
            return Ok(String::from_utf8_lossy(&metadata).into_owned());
        }
        let parsed = parse_url(&file.url)?;
        let cache_path = self.cache_path(&parsed, ".METADATA");
        if let Some(contents) = read_cache(cache_path.as_deref()) {
            if check(&contents, None, Expected::Metadata).is_ok() {
                return Ok(String::from_utf8_lossy(&contents).into_owned());
            }
        }
        let wheel = self.fetch_file(&parsed)?;
        let invalid = |reason: String| IndexError::Invalid {
            url: redact_url(&file.url),
            reason,
        };
        check(&wheel, file.sha256.as_deref(), Expected::Wheel).map_err(invalid)?;
        let metadata = read_wheel_metadata(&wheel).map_err(|reason| IndexError::Wheel {
            url: redact_url(&file.url),
            reason,
        })?;
        check(&metadata, None, Expected::Metadata).map_err(|reason| IndexError::Wheel {
            url: redact_url(&file.url),
            reason,
        })?;
        if let Some(path) = cache_path {
            write_cache(&path, &metadata);
        }
        Ok(String::from_utf8_lossy(&metadata).into_owned())
    }

    /// GETs a file; `404` is an error.
    fn fetch_file(&self, url: &Url) -> Result<Vec<u8>, IndexError> {
        let fetched =
            self.get(url, None, MAXIMUM_FILE_BYTES)?
                .ok_or_else(|| IndexError::Status {
                    url: redact_url(url.as_str()),
                    status: StatusCode::NOT_FOUND.as_u16(),
                })?;
        Ok(fetched.body)
    }

    /// GETs `url` with retries. `Ok(None)` for `404`/`410`; other non-success statuses
    /// are errors; a body over `limit` bytes is an error (never read beyond it).
    fn get(
        &self,
        url: &Url,
        accept: Option<&'static str>,
        limit: u64,
    ) -> Result<Option<Fetched>, IndexError> {
        let mut backoff = FIRST_BACKOFF;
        let timeout = request_timeout();
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            let mut request = self.http.get(url.clone());
            if let Some(accept) = accept {
                request = request.header(ACCEPT, HeaderValue::from_static(accept));
            }
            let too_large = || IndexError::TooLarge {
                url: redact_url(url.as_str()),
                limit,
            };
            let _slot = self.budget.slot();
            let started = Instant::now();
            let outcome = match request.timeout(timeout).send() {
                Err(error) => Err(Failure::Http(error)),
                Ok(response) => {
                    let status = response.status();
                    let final_url = response.url().clone();
                    let content_type = response
                        .headers()
                        .get(CONTENT_TYPE)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    if !status.is_success() {
                        // The body of an error is never read.
                        Ok((status, final_url, content_type, Vec::new()))
                    } else {
                        let length = response.content_length();
                        if length.is_some_and(|length| length > limit) {
                            return Err(too_large());
                        }
                        match read_body(response, length, limit, started + timeout, &self.budget) {
                            Ok(body) => Ok((status, final_url, content_type, body)),
                            Err(BodyError::TooLarge) => return Err(too_large()),
                            Err(BodyError::Deadline) => {
                                return Err(IndexError::Deadline {
                                    url: redact_url(url.as_str()),
                                    seconds: timeout.as_secs_f64(),
                                })
                            }
                            Err(BodyError::Budget(what)) => {
                                return Err(IndexError::Budget {
                                    url: redact_url(url.as_str()),
                                    what,
                                })
                            }
                            Err(BodyError::Io(error)) => Err(Failure::Body(error)),
                        }
                    }
                }
            };
            match outcome {
                Ok((status, final_url, content_type, body)) => {
                    if status.is_success() {
                        return Ok(Some(Fetched {
                            final_url,
                            content_type,
                            body,
                        }));
                    }
                    if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
                        return Ok(None);
                    }
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if !retryable || last {
                        return Err(IndexError::Status {
                            url: redact_url(url.as_str()),
                            status: status.as_u16(),
                        });
                    }
                }
                Err(Failure::Http(error)) => {
                    let retryable = error.is_connect() || error.is_timeout() || error.is_body();
                    if !retryable || last {
                        return Err(IndexError::Request {
                            url: redact_url(url.as_str()),
                            message: error_chain(&error.without_url()),
                        });
                    }
                }
                Err(Failure::Body(error)) => {
                    if last {
                        return Err(IndexError::Request {
                            url: redact_url(url.as_str()),
                            message: format!("reading the body: {}", error_chain(&error)),
                        });
                    }
                }
            }
            std::thread::sleep(backoff);
            backoff *= 2;
        }
        unreachable!("the last attempt always returns")
    }

    /// `<cache>/files/<URL hash>-<file name><suffix>`.
    fn cache_path(&self, url: &Url, suffix: &str) -> Option<PathBuf> {
        let directory = self.cache_dir.as_ref()?;
        let filename = url.path_segments()?.next_back()?;
        let filename: String = filename
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut url_without_fragment = url.clone();
        url_without_fragment.set_fragment(None);
        Some(directory.join("files").join(format!(
            "{:016x}-{filename}{suffix}",
            fnv1a(url_without_fragment.as_str())
        )))
    }
}

/// Why reading a body stopped.
enum BodyError {
    TooLarge,
    Deadline,
    Budget(String),
    Io(std::io::Error),
}

/// The body of `response`, read in chunks of [`CHUNK_BYTES`]: at most `limit` bytes,
/// counted against the run's budget, and given up once `deadline` has passed (the
/// blocking client's own timeout restarts on every read, so a server sending a byte a
/// second would otherwise hold the run until `limit`).
fn read_body(
    mut response: reqwest::blocking::Response,
    length: Option<u64>,
    limit: u64,
    deadline: Instant,
    budget: &RunBudget,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::with_capacity(length.unwrap_or(0).min(limit) as usize);
    let mut chunk = vec![0_u8; CHUNK_BYTES];
    loop {
        if Instant::now() >= deadline {
            return Err(BodyError::Deadline);
        }
        let read = match response.read(&mut chunk) {
            Ok(0) => return Ok(body),
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) if Instant::now() >= deadline => return Err(BodyError::Deadline),
            Err(error) => return Err(BodyError::Io(error)),
        };
        if body.len() + read > limit as usize {
            return Err(BodyError::TooLarge);
        }
        budget.spend_bytes(read as u64).map_err(BodyError::Budget)?;
        body.extend_from_slice(&chunk[..read]);
    }
}

/// Why one try of a request failed.
enum Failure {
    Http(reqwest::Error),
    Body(std::io::Error),
}

/// What a download must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// A zip archive (a wheel).
    Wheel,
    /// A core metadata file (`Metadata-Version` and `Name` in its header block).
    Metadata,
    Any,
}

/// Checks a download (or a cached copy) before it is used or cached.
fn check(contents: &[u8], sha256: Option<&str>, kind: Expected) -> Result<(), String> {
    if let Some(expected) = sha256 {
        let actual = sha256_hex(contents);
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            return Err(format!("its sha256 is {actual}, the index said {expected}"));
        }
    }
    match kind {
        Expected::Wheel => zip::ZipArchive::new(std::io::Cursor::new(contents))
            .map(|_| ())
            .map_err(|error| format!("not a zip archive ({error})")),
        Expected::Metadata => {
            let mut name = false;
            let mut version = false;
            let _ = crate::scan::metadata::read_headers(contents, |key, _| {
                name |= key.eq_ignore_ascii_case("name");
                version |= key.eq_ignore_ascii_case("metadata-version");
                !(name && version)
            });
            if name && version {
                Ok(())
            } else {
                Err("not core metadata (no `Metadata-Version` and `Name` headers)".to_owned())
            }
        }
        Expected::Any => Ok(()),
    }
}

/// The sha256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

struct Fetched {
    final_url: Url,
    content_type: String,
    body: Vec<u8>,
}

/// Resolves each host name once per client, on its own thread, and shares the answer
/// with every connection to that host. With many parallel requests the default resolver
/// looks a host up once per new connection, and an unanswered query (a 5 s resolver
/// timeout) then also holds up the client's shutdown; one lookup per host avoids both.
/// Failed lookups are forgotten, so a retry looks the host up again.
#[derive(Default)]
struct SharedResolver {
    hosts: Arc<Mutex<HashMap<String, Arc<Lookup>>>>,
}

#[derive(Default)]
struct Lookup {
    state: Mutex<LookupState>,
}

#[derive(Default)]
struct LookupState {
    addresses: Option<Result<Vec<SocketAddr>, String>>,
    waiting: Vec<Waker>,
}

impl reqwest::dns::Resolve for SharedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let (lookup, start) = match self.hosts.lock() {
            Ok(mut hosts) => match hosts.get(&host) {
                Some(lookup) => (Arc::clone(lookup), false),
                None => {
                    let lookup = Arc::new(Lookup::default());
                    hosts.insert(host.clone(), Arc::clone(&lookup));
                    (lookup, true)
                }
            },
            Err(_) => (Arc::new(Lookup::default()), true),
        };
        if start {
            let hosts = Arc::clone(&self.hosts);
            let finished = Arc::clone(&lookup);
            std::thread::spawn(move || {
                // The port is replaced by the URL's.
                let addresses = (host.as_str(), 0)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<_>>)
                    .map_err(|error| error.to_string());
                if addresses.is_err() {
                    if let Ok(mut hosts) = hosts.lock() {
                        hosts.remove(&host);
                    }
                }
                if let Ok(mut state) = finished.state.lock() {
                    state.addresses = Some(addresses);
                    for waker in state.waiting.drain(..) {
                        waker.wake();
                    }
                }
            });
        }
        Box::pin(LookupFuture { lookup })
    }
}

struct LookupFuture {
    lookup: Arc<Lookup>,
}

impl Future for LookupFuture {
    type Output = Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut state) = self.lookup.state.lock() else {
            return Poll::Ready(Err("DNS lookup state poisoned".into()));
        };
        match &state.addresses {
            Some(Ok(addresses)) => {
                let addresses: reqwest::dns::Addrs = Box::new(addresses.clone().into_iter());
                Poll::Ready(Ok(addresses))
            }
            Some(Err(message)) => Poll::Ready(Err(message.clone().into())),
            None => {
                state.waiting.push(context.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/otel-bootstrap`, else
/// `~/.cache/otel-bootstrap`; `None` when neither variable is set.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(cache_home) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(cache_home).join("otel-bootstrap"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".cache").join("otel-bootstrap"))
}

/// The PEP 503 normalized form of a project name: runs of `-`, `_` and `.` become a
/// single `-`, and the name is lowercased.
pub(crate) fn normalize_name(name: &str) -> String {
    crate::requirement::normalize(name.trim())
}

/// `url` with any user information replaced by `****`:
/// `https://user:token@host/simple/` → `https://user:****@host/simple/` (the one redactor,
/// [`crate::redact::redact`]). Text that is not a
/// URL is returned unchanged.
pub(crate) fn redact_url(url: &str) -> String {
    crate::redact::redact(url).into_owned()
}

/// Reads `*.dist-info/METADATA` from a wheel's bytes.
pub(crate) fn read_wheel_metadata(wheel: &[u8]) -> Result<Vec<u8>, String> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(wheel)).map_err(|error| error.to_string())?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|name| {
            name.split_once('/').is_some_and(|(directory, rest)| {
                directory.ends_with(".dist-info") && rest == "METADATA"
            })
        })
        .map(|name| name.into_owned())
        .ok_or_else(|| "no .dist-info/METADATA".to_owned())?;
    read_wheel_file(&mut archive, &name)
}

/// Reads one file from an opened wheel.
pub(crate) fn read_wheel_file<R: std::io::Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, String> {
    let entry = archive
        .by_name(name)
        .map_err(|error| format!("{name}: {error}"))?;
    let size = entry.size();
    if size > MAXIMUM_ENTRY_BYTES {
        return Err(format!(
            "{name}: {size} bytes uncompressed, more than the {MAXIMUM_ENTRY_BYTES} allowed"
        ));
    }
    let compressed = entry.compressed_size().max(1);
    if size > 64 * 1024 && size / compressed > MAXIMUM_COMPRESSION_RATIO {
        return Err(format!(
            "{name}: compressed {}:1, more than the {MAXIMUM_COMPRESSION_RATIO}:1 allowed",
            size / compressed
        ));
    }
    let mut contents = Vec::new();
    // The sizes in the archive may lie: never read beyond the limit either way.
    entry
        .take(MAXIMUM_ENTRY_BYTES + 1)
        .read_to_end(&mut contents)
        .map_err(|error| format!("{name}: {error}"))?;
    if contents.len() as u64 > MAXIMUM_ENTRY_BYTES {
        return Err(format!(
            "{name}: more than the {MAXIMUM_ENTRY_BYTES} bytes allowed uncompressed"
        ));
    }
    Ok(contents)
}

/// Parses a PEP 691 JSON project page, streaming: each entry of `files` counts against
/// [`MAXIMUM_PAGE_ENTRIES`] and is turned into an [`IndexFile`] (or dropped, when its file
/// is not usable) as it is read, so the page is never held as a whole JSON tree. Its
/// strings are borrowed from the body where they have no escapes.
pub fn parse_json_page(body: &[u8], page_url: &Url) -> Result<PageFiles, String> {
    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::borrow::Cow;

    #[derive(serde::Deserialize)]
    struct File<'a> {
        #[serde(borrow)]
        filename: Cow<'a, str>,
        #[serde(borrow)]
        url: Cow<'a, str>,
        #[serde(default, borrow)]
        yanked: Option<&'a serde_json::value::RawValue>,
        #[serde(default, borrow, rename = "core-metadata")]
        core_metadata: Option<&'a serde_json::value::RawValue>,
        #[serde(default, borrow, rename = "dist-info-metadata")]
        dist_info_metadata: Option<&'a serde_json::value::RawValue>,
        #[serde(default, borrow)]
        hashes: Option<&'a serde_json::value::RawValue>,
    }

    /// A small JSON value (a flag, a table of hashes); a large one is read as `null`.
    fn small(raw: Option<&serde_json::value::RawValue>) -> serde_json::Value {
        raw.filter(|raw| raw.get().len() <= 4096)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    struct Files<'u> {
        page_url: &'u Url,
        links: usize,
        files: Vec<IndexFile>,
    }

    impl<'de> Visitor<'de> for &mut Files<'_> {
        type Value = ();
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a list of files")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
            while let Some(file) = sequence.next_element::<File<'de>>()? {
                self.links += 1;
                if self.links > MAXIMUM_PAGE_ENTRIES {
                    return Err(de::Error::custom(too_many_links()));
                }
                if !usable_filename(&file.filename) {
                    continue;
                }
                let url = resolve(self.page_url, &file.url).map_err(de::Error::custom)?;
                // PEP 691: `yanked` is a boolean or a reason (a string, which means
                // yanked); the metadata keys are a boolean or a table of hashes.
                let truthy = |value: &serde_json::Value| match value {
                    serde_json::Value::Bool(flag) => *flag,
                    serde_json::Value::String(_) | serde_json::Value::Object(_) => true,
                    _ => false,
                };
                let table_sha256 = |value: &serde_json::Value| {
                    value
                        .get("sha256")
                        .and_then(serde_json::Value::as_str)
                        .and_then(valid_sha256)
                };
                let core_metadata = small(file.core_metadata);
                let dist_info_metadata = small(file.dist_info_metadata);
                self.files.push(IndexFile {
                    yanked: truthy(&small(file.yanked)),
                    core_metadata: truthy(&core_metadata) || truthy(&dist_info_metadata),
                    sha256: table_sha256(&small(file.hashes))
                        .or_else(|| fragment_sha256(&file.url)),
                    metadata_sha256: table_sha256(&core_metadata)
                        .or_else(|| table_sha256(&dist_info_metadata)),
                    filename: file.filename.into_owned(),
                    url,
                });
            }
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for &mut Files<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    struct Page<'f, 'u>(&'f mut Files<'u>);

    impl<'de> Visitor<'de> for Page<'_, '_> {
        type Value = bool;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a PEP 691 project page")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut found = false;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == "files" && !found {
                    map.next_value_seed(&mut *self.0)?;
                    found = true;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    let mut files = Files {
        page_url,
        links: 0,
        files: Vec::new(),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let found = de::Deserializer::deserialize_map(&mut deserializer, Page(&mut files))
        .map_err(|error| error.to_string())?;
    deserializer.end().map_err(|error| error.to_string())?;
    if !found {
        return Err("missing field `files`".to_owned());
    }
    Ok(PageFiles {
        files: files.files,
        links: files.links,
    })
}

/// The files of a project page, and how many links it had (kept or not).
#[derive(Debug, Default)]
pub struct PageFiles {
    pub files: Vec<IndexFile>,
    pub links: usize,
}

/// Whether a file name is one the tool can use (a wheel, or an sdist whose name carries a
/// version): anything else on a page is dropped before it is built.
fn usable_filename(filename: &str) -> bool {
    [".whl", ".tar.gz", ".zip"]
        .iter()
        .any(|suffix| filename.ends_with(suffix))
}

/// The error for a page with more than [`MAXIMUM_PAGE_ENTRIES`] links.
fn too_many_links() -> String {
    format!("it lists more than {MAXIMUM_PAGE_ENTRIES} files, the most read from one page")
}

/// Parses a PEP 503 HTML project page: every `<a href>` counts against
/// [`MAXIMUM_PAGE_ENTRIES`]; only links to usable files are kept ([`usable_filename`]),
/// and anchors whose link cannot be resolved are skipped.
pub fn parse_html_page(html: &str, page_url: &Url) -> Result<PageFiles, String> {
    let mut files = Vec::new();
    let mut links = 0_usize;
    let mut rest = html;
    while let Some(start) = find_ascii_case_insensitive(rest, "<a") {
        let after = &rest[start + 2..];
        if !after.starts_with(|c: char| c.is_ascii_whitespace()) {
            rest = after;
            continue;
        }
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let attributes = parse_attributes(&after[..tag_end]);
        let body = &after[tag_end + 1..];
        let text_end = find_ascii_case_insensitive(body, "</a").unwrap_or(body.len());
        let text = decode_entities(body[..text_end].trim());
        rest = &body[text_end..];

        let attribute = |name: &str| {
            attributes
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let Some(href) = attribute("href") else {
            continue;
        };
        links += 1;
        if links > MAXIMUM_PAGE_ENTRIES {
            return Err(too_many_links());
        }
        let filename = if text.is_empty() {
            let path = href.split(['#', '?']).next().unwrap_or_default();
            path.rsplit('/').next().unwrap_or_default().to_owned()
        } else {
            text
        };
        if !usable_filename(&filename) {
            continue;
        }
        let Ok(url) = resolve(page_url, href) else {
            continue;
        };
        let metadata_flag =
            |name: &str| attribute(name).is_some_and(|value| !value.eq_ignore_ascii_case("false"));
        let metadata_sha256 = ["data-core-metadata", "data-dist-info-metadata"]
            .iter()
            .find_map(|name| {
                attribute(name)?
                    .strip_prefix("sha256=")
                    .and_then(valid_sha256)
            });
        files.push(IndexFile {
            filename,
            sha256: fragment_sha256(href),
            metadata_sha256,
            url,
            yanked: attribute("data-yanked").is_some(),
            core_metadata: metadata_flag("data-core-metadata")
                || metadata_flag("data-dist-info-metadata"),
        });
    }
    Ok(PageFiles { files, links })
}

/// The `sha256=<hex>` of a link's fragment (`…whl#sha256=…`), when it is one.
fn fragment_sha256(href: &str) -> Option<String> {
    let (_, fragment) = href.split_once('#')?;
    fragment
        .split('&')
        .find_map(|part| part.strip_prefix("sha256="))
        .and_then(valid_sha256)
}

/// `text` lowercased, when it is 64 hexadecimal digits.
fn valid_sha256(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// `(lowercase name, entity-decoded value)` for each attribute in the inside of a tag.
fn parse_attributes(tag: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    let mut characters = tag.char_indices().peekable();
    while let Some(&(start, character)) = characters.peek() {
        if character.is_ascii_whitespace() || character == '/' {
            characters.next();
            continue;
        }
        let mut name_end = start;
        while let Some(&(index, c)) = characters.peek() {
            if c.is_ascii_whitespace() || c == '=' || c == '/' {
                break;
            }
            name_end = index + c.len_utf8();
            characters.next();
        }
        let name = tag[start..name_end].to_ascii_lowercase();
        while characters
            .peek()
            .is_some_and(|(_, c)| c.is_ascii_whitespace())
        {
            characters.next();
        }
        let mut value = String::new();
        if characters.peek().is_some_and(|(_, c)| *c == '=') {
            characters.next();
            while characters
                .peek()
                .is_some_and(|(_, c)| c.is_ascii_whitespace())
            {
                characters.next();
            }
            match characters.peek().map(|(_, c)| *c) {
                Some(quote @ ('"' | '\'')) => {
                    characters.next();
                    for (_, c) in characters.by_ref() {
                        if c == quote {
                            break;
                        }
                        value.push(c);
                    }
                }
                _ => {
                    while let Some(&(_, c)) = characters.peek() {
                        if c.is_ascii_whitespace() {
                            break;
                        }
                        value.push(c);
                        characters.next();
                    }
                }
            }
        }
        if !name.is_empty() {
            attributes.push((name, decode_entities(&value)));
        }
    }
    attributes
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the character references that appear in index pages.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(ampersand) = rest.find('&') {
        decoded.push_str(&rest[..ampersand]);
        rest = &rest[ampersand..];
        let replacement = rest.find(';').and_then(|semicolon| {
            let entity = &rest[1..semicolon];
            let character = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((character, semicolon + 1))
        });
        match replacement {
            Some((character, length)) => {
                decoded.push(character);
                rest = &rest[length..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// `href` resolved against the page, without its fragment.
fn resolve(page_url: &Url, href: &str) -> Result<String, String> {
    let mut url = page_url
        .join(href)
        .map_err(|error| format!("bad link `{}`: {error}", redact_url(href)))?;
    url.set_fragment(None);
    Ok(url.to_string())
}

/// A reqwest error and its sources, joined with `: ` (without duplicates).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// 64-bit FNV-1a: a stable hash for cache keys.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn parse_url(url: &str) -> Result<Url, IndexError> {
    Url::parse(url).map_err(|error| IndexError::InvalidUrl {
        url: redact_url(url),
        reason: error.to_string(),
    })
}

/// A cached file, read under [`crate::untrusted`]'s policy (a regular file of at most
/// [`MAXIMUM_FILE_BYTES`]; a FIFO, a device or a link to one is refused without blocking):
/// anything else is a cache miss.
fn read_cache(path: Option<&Path>) -> Option<Vec<u8>> {
    crate::untrusted::read_bytes(path?, crate::untrusted::FileKind::Cache).ok()
}

/// Writes a cache file through [`crate::untrusted::write_atomically`]; failures are
/// ignored (the cache is best effort).
fn write_cache(path: &Path, contents: &[u8]) {
    let _ = crate::untrusted::write_atomically(path, contents);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("https://user:token@host.example/simple/"),
            "https://user:****@host.example/simple/"
        );
        assert_eq!(
            redact_url("https://token@host.example"),
            "https://****@host.example"
        );
        assert_eq!(
            redact_url("https://host.example/a@b"),
            "https://host.example/a@b"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Foo.Bar__Baz-qux"), "foo-bar-baz-qux");
        assert_eq!(normalize_name("aio_pika"), "aio-pika");
    }

    #[test]
    fn parses_html_pages() {
        let page = Url::parse("https://host.example/simple/demo/").expect("valid URL");
        let html = r#"<!DOCTYPE html><html><body>
            <a href="../../files/demo-1.0-py3-none-any.whl#sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" data-dist-info-metadata="sha256=DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD">demo-1.0-py3-none-any.whl</a><br/>
            <A HREF='https://other.example/demo-0.9.tar.gz' data-yanked="">demo-0.9.tar.gz</A>
            <a href="/x?a=1&amp;b=2">demo-0.8.zip</a>
            <abbr>not a link</abbr>
        </body></html>"#;
        let files = parse_html_page(html, &page).expect("a page").files;
        assert_eq!(
            files,
            vec![
                IndexFile {
                    filename: "demo-1.0-py3-none-any.whl".to_owned(),
                    url: "https://host.example/files/demo-1.0-py3-none-any.whl".to_owned(),
                    yanked: false,
                    core_metadata: true,
                    sha256: Some("a".repeat(64)),
                    metadata_sha256: Some("d".repeat(64)),
                },
                IndexFile {
                    filename: "demo-0.9.tar.gz".to_owned(),
                    url: "https://other.example/demo-0.9.tar.gz".to_owned(),
                    yanked: true,
                    core_metadata: false,
                    sha256: None,
                    metadata_sha256: None,
                },
                IndexFile {
                    filename: "demo-0.8.zip".to_owned(),
                    url: "https://host.example/x?a=1&b=2".to_owned(),
                    yanked: false,
                    core_metadata: false,
                    sha256: None,
                    metadata_sha256: None,
                },
            ]
        );
        assert_eq!(files[0].version_text(), Some("1.0"));
        assert_eq!(files[1].version_text(), Some("0.9"));
    }

    #[test]
    fn parses_json_pages() {
        let page = Url::parse("https://host.example/simple/demo/").expect("valid URL");
        let body = br#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
            {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl", "hashes": {"sha256": "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}, "yanked": "broken", "core-metadata": {"sha256": "x"}},
            {"filename": "demo-0.9.tar.gz", "url": "https://files.example/demo-0.9.tar.gz#sha256=1", "hashes": {}}
        ]}"#;
        let files = parse_json_page(body, &page).expect("valid page").files;
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url,
            "https://host.example/files/demo-1.0-py3-none-any.whl"
        );
        assert!(files[0].yanked && files[0].core_metadata);
        assert_eq!(files[1].url, "https://files.example/demo-0.9.tar.gz");
        assert!(!files[1].yanked && !files[1].core_metadata);
        assert_eq!(files[0].sha256, Some("b".repeat(64)));
        assert_eq!(files[0].metadata_sha256, None, "not a sha256");
        assert_eq!(files[1].sha256, None, "`1` is not a sha256");
    }

    fn zip_with(name: &str, contents: &[u8], method: zip::CompressionMethod) -> Vec<u8> {
        use std::io::Write as _;
        let mut buffer = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut buffer);
        writer
            .start_file(
                name,
                zip::write::SimpleFileOptions::default().compression_method(method),
            )
            .expect("start");
        writer.write_all(contents).expect("write");
        writer.finish().expect("finish");
        buffer.into_inner()
    }

    #[test]
    fn zip_entries_are_bounded() {
        let bomb = zip_with(
            "demo-1.0.dist-info/METADATA",
            &vec![b' '; 8 * 1024 * 1024],
            zip::CompressionMethod::Deflated,
        );
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        let error = read_wheel_metadata(&bomb).expect_err("a bomb");
        assert!(error.contains("compressed"), "{error}");
        let big = zip_with(
            "demo-1.0.dist-info/METADATA",
            &vec![b'x'; (MAXIMUM_ENTRY_BYTES + 1) as usize],
            zip::CompressionMethod::Stored,
        );
        let error = read_wheel_metadata(&big).expect_err("too big");
        assert!(error.contains("allowed"), "{error}");
        let fine = zip_with(
            "demo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: demo\n",
            zip::CompressionMethod::Deflated,
        );
        assert!(read_wheel_metadata(&fine).is_ok());
    }

    #[test]
    fn downloads_are_checked() {
        let wheel = zip_with("a", b"b", zip::CompressionMethod::Stored);
        let digest = sha256_hex(&wheel);
        assert!(check(&wheel, Some(&digest.to_ascii_uppercase()), Expected::Wheel).is_ok());
        assert!(check(&wheel, Some(&"0".repeat(64)), Expected::Wheel)
            .expect_err("wrong hash")
            .contains("sha256"));
        assert!(check(b"<html>login</html>", None, Expected::Wheel)
            .expect_err("HTML")
            .contains("zip"));
        assert!(check(b"<html>login</html>", None, Expected::Metadata).is_err());
        assert!(check(
            b"Metadata-Version: 2.1\nName: x\n",
            None,
            Expected::Metadata
        )
        .is_ok());
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
