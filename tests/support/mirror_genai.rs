//! The GenAI entry of the loopback mirror of real wheels: `<tools_dir>/otel-mirror-genai-v1/`,
//! downloaded once (with [`super::mirror::provision`], the same rule as `otel-mirror-v1`):
//! the complete 0.66b1 / 1.45.1 stack ([`super::mirror::OTEL_PINS_0_66B1`]), the GenAI
//! family packages at 1.3b0 with `opentelemetry-util-genai` 1.3b0, the broken
//! `opentelemetry-instrumentation-openai-v2` 2.4b0, and today's `openai` (3.x, on `httpx2`),
//! `anthropic` and `langchain` with their dependencies, constrained to the versions of
//! 2026-12-06 ([`GENAI_THIRD_PARTY_PINS`]). An `opentelemetry-*` file that is not pinned
//! fails the provisioning. **Bump [`GENAI_MIRROR`]'s suffix whenever a pin list changes.**
//!
//! Also here: an application that makes one chat completion with the `openai` client
//! against a fake OpenAI-compatible server (a `http.server` on 127.0.0.1 in the same
//! process), run under `opentelemetry-instrument` with the console exporter.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::mirror::{self, Stack};
use super::python::{self, Venv};

/// The entry's directory name under `tools_dir()`.
pub const GENAI_MIRROR: &str = "otel-mirror-genai-v1";

/// The GenAI packages (and the broken contrib one).
pub const GENAI_OTEL_PINS: &[&str] = &[
    "opentelemetry-instrumentation-genai-openai==1.3b0",
    "opentelemetry-instrumentation-genai-anthropic==1.3b0",
    "opentelemetry-instrumentation-genai-langchain==1.3b0",
    "opentelemetry-util-genai==1.3b0",
    "opentelemetry-instrumentation-openai-v2==2.4b0",
];

/// The applications' libraries.
pub const GENAI_LIBRARIES: &[&str] = &["openai", "anthropic", "langchain"];

/// Every other project at its version on 2026-12-06 (a constraint).
pub const GENAI_THIRD_PARTY_PINS: &[&str] = &[
    "annotated-types==0.8.0",
    "anthropic==2.17.0",
    "anyio==4.16.0",
    "asgiref==3.13.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "distro==1.9.0",
    "docstring-parser==0.18.0",
    "googleapis-common-protos==1.76.0",
    "grpcio==1.85.4",
    "h11==0.16.0",
    "httpcore==1.0.9",
    "httpcore2==2.17.0",
    "httpx==0.29.0",
    "httpx2==2.17.0",
    "idna==3.21",
    "jiter==0.19.0",
    "jsonpatch==1.48",
    "jsonpointer==3.12",
    "langchain==1.5.2",
    "langchain-core==1.8.3",
    "langchain-protocol==0.0.20",
    "langgraph==1.2.24",
    "langgraph-checkpoint==4.3.2",
    "langgraph-prebuilt==1.1.3",
    "langgraph-sdk==0.4.14",
    "langsmith==0.15.1",
    "openai==3.63.0",
    "orjson==3.13.0",
    "ormsgpack==1.13.1",
    "packaging==26.4",
    "protobuf==7.36.2",
    "psutil==7.2.2",
    "pydantic==2.14.4",
    "pydantic-core==2.50.5",
    "pyyaml==6.0.4",
    "requests==2.34.2",
    "requests-toolbelt==1.0.0",
    "sniffio==1.3.1",
    "tenacity==9.2.1",
    "truststore==0.10.5",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
    "urllib3==2.8.0",
    "uuid-utils==0.19.0",
    "websockets==17.4",
    "wrapt==2.5.2",
    "xxhash==4.1.0",
    "zstandard==0.25.0",
];

fn genai_build(python3: &Path, tmp: &Path) -> Result<(), String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let constraints = scratch.path().join("constraints.txt");
    fs::write(&constraints, GENAI_THIRD_PARTY_PINS.join("\n") + "\n")
        .map_err(|e| format!("writing {}: {e}", constraints.display()))?;
    let mut download = mirror::pip_download(python3, tmp, &constraints);
    download
        .args(mirror::OTEL_PINS_0_66B1)
        .arg("opentelemetry-exporter-http-transport[requests,urllib3]==0.66b1")
        .args(GENAI_OTEL_PINS)
        .args(GENAI_LIBRARIES);
    mirror::run_download(&mut download, "pip download (the GenAI stack)")?;

    let pins: Vec<(String, String)> = mirror::OTEL_PINS_0_66B1
        .iter()
        .chain(GENAI_OTEL_PINS)
        .map(|pin| mirror::split_pin(pin))
        .collect();
    for entry in fs::read_dir(tmp).map_err(|e| format!("{}: {e}", tmp.display()))? {
        let file = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some((name, version)) = mirror::wheel_name_version(&file) else {
            return Err(format!("pip download left {file}, which is not a wheel"));
        };
        if name.starts_with("opentelemetry-") && !pins.contains(&(name, version)) {
            return Err(format!(
                "pip download brought {file}, an opentelemetry distribution that is not pinned \
                 in tests/support/mirror_genai.rs: pin it (and bump GENAI_MIRROR)"
            ));
        }
    }
    let mut manifest = Command::new(python3);
    manifest
        .args(["-I", "-c", mirror::WRITE_MANIFEST])
        .arg(tmp)
        .arg(GENAI_MIRROR);
    mirror::run_download(&mut manifest, "writing MANIFEST.txt")
}

/// The GenAI stack served on 127.0.0.1 (downloaded on first use). `None` (a failure
/// under `CI=true`) when it cannot be.
#[track_caller]
pub fn genai_stack() -> Option<Stack> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    python::python3()?;
    match DIR
        .get_or_init(|| mirror::provision(GENAI_MIRROR, genai_build))
        .clone()
    {
        Ok(dir) => Some(Stack::serving(dir)),
        Err(e) => {
            python::skip_or_fail(&e);
            None
        }
    }
}

/// One chat completion with the `openai` client against a fake OpenAI-compatible server
/// on 127.0.0.1 (started in a thread of the same process); prints the answer.
pub const CHAT_APP: &str = r#"
import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1764979200,
            "model": request.get("model", "fake-model"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "pong"},
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
threading.Thread(target=server.serve_forever, daemon=True).start()

import openai
client = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % server.server_address[1], api_key="test", max_retries=0)
answer = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "ping"}])
print("answer:", answer.choices[0].message.content, flush=True)
server.shutdown()
"#;

/// What the chat application did.
pub struct ChatRun {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub spans: Vec<Value>,
}

impl ChatRun {
    /// The spans with at least one `gen_ai.*` attribute.
    pub fn genai_spans(&self) -> Vec<&Value> {
        self.spans
            .iter()
            .filter(|span| {
                span["attributes"].as_object().is_some_and(|attributes| {
                    attributes.keys().any(|key| key.starts_with("gen_ai."))
                })
            })
            .collect()
    }
}

/// Runs [`CHAT_APP`] as `<venv>/bin/opentelemetry-instrument <venv>/bin/python chat.py`
/// with the console trace exporter, hermetic. Fails only if it hangs (2 minutes).
pub fn run_chat(stack: &Stack, venv: &Venv) -> ChatRun {
    let apps = stack.path("apps");
    fs::create_dir_all(&apps).unwrap();
    let script = apps.join("chat.py");
    fs::write(&script, CHAT_APP).unwrap();
    let mut path = vec![venv.root.join("bin")];
    path.extend(std::env::split_paths(&mirror::path_without_uv()));
    let path = std::env::join_paths(path).unwrap();
    let mut cmd = stack.command(venv.bin("opentelemetry-instrument"), &apps, &path);
    cmd.env("VIRTUAL_ENV", &venv.root)
        .env("OTEL_TRACES_EXPORTER", "console")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_LOGS_EXPORTER", "none")
        .env("OTEL_SERVICE_NAME", "chat")
        .arg(&venv.python)
        .arg(&script);
    let (status, stdout, stderr) = mirror::run_with_timeout(&mut cmd, Duration::from_secs(120));
    ChatRun {
        spans: mirror::parse_console_spans(&stdout),
        status,
        stdout,
        stderr,
    }
}
