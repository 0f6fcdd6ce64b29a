//! The connection to a live OpenBao, as the `bao` CLI makes it: `BAO_ADDR`, `BAO_TOKEN`,
//! `BAO_CACERT` (the `VAULT_*` names as fallbacks), overridden by flags. One keep-alive HTTPS
//! client (rustls, as `verify`), a timeout on every request; the token is sent in a header and
//! never appears in any message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The most bytes read from one answer.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// Where the server is and how to authenticate; flags win over the environment.
#[derive(Debug, Default, Clone)]
pub struct Connection {
    pub addr: Option<String>,
    pub token_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// A connected client.
pub struct Client {
    agent: ureq::Agent,
    addr: String,
    token: String,
}

/// An API answer: status and JSON body (`Null` when empty).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    pub fn connect(c: &Connection) -> anyhow::Result<Client> {
        let addr = c
            .addr
            .clone()
            .or_else(|| env(&["BAO_ADDR", "VAULT_ADDR"]))
            .context(
                "no OpenBao address: set BAO_ADDR or pass --addr https://openbao.example:8200",
            )?;
        let addr = addr.trim_end_matches('/').to_string();
        let token = match &c.token_file {
            Some(f) => read_small(f).with_context(|| format!("--token-file {}", f.display()))?,
            None => env(&["BAO_TOKEN", "VAULT_TOKEN"]).context(
                "no token: set BAO_TOKEN or pass --token-file FILE (a file holding the token)",
            )?,
        };
        let token = token.trim().to_string();
        if token.is_empty() || token.contains(['\r', '\n']) {
            bail!("the token is empty or spans several lines");
        }
        let ca = match c
            .ca_cert
            .clone()
            .or_else(|| env(&["BAO_CACERT", "VAULT_CACERT"]).map(PathBuf::from))
        {
            Some(path) => Some(
                crate::fsio::read_regular(&path, 1024 * 1024)
                    .map_err(|e| anyhow!("{e}"))
                    .with_context(|| format!("the CA certificate {}", path.display()))?,
            ),
            None => None,
        };
        // One kept-alive connection per parallel request (ureq keeps 3 by default).
        let agent = crate::https::agent(ca.as_deref(), TIMEOUT, super::plan::PARALLEL)?;
        Ok(Client { agent, addr, token })
    }

    /// `method /v1/path` with an optional JSON body; transport errors carry a hint.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Answer> {
        let url = format!("{}/v1/{path}", self.addr);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("X-Vault-Token", &self.token)
            .header("Content-Type", "application/json");
        let result = match body {
            Some(b) => self
                .agent
                .run(request.body(b.to_string()).map_err(|e| anyhow!("{e}"))?),
            None => self
                .agent
                .run(request.body(()).map_err(|e| anyhow!("{e}"))?),
        };
        let mut resp = result
            .map_err(|e| transport(&e, &self.addr))
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| transport(&e, &self.addr))
            .with_context(|| format!("reading the answer to {method} {path}"))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Answer { status, body })
    }

    /// `GET`: the `data` of the answer, `None` when the path holds nothing (404).
    pub fn read(&self, path: &str, capability: &str) -> anyhow::Result<Option<Value>> {
        let a = self.call("GET", path, None)?;
        match a.status {
            200 => Ok(Some(a.body["data"].clone())),
            404 => Ok(None),
            _ => Err(refusal("GET", path, capability, &a)),
        }
    }

    /// `LIST`: the keys under a path (empty when there are none).
    pub fn list(&self, path: &str) -> anyhow::Result<Vec<String>> {
        // `?list=true` is OpenBao's GET form of LIST.
        let a = self.call("GET", &format!("{path}?list=true"), None)?;
        match a.status {
            200 => Ok(a.body["data"]["keys"]
                .as_array()
                .map(|k| {
                    k.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()),
            404 => Ok(Vec::new()),
            _ => Err(refusal("LIST", path, "list", &a)),
        }
    }

    /// `POST`/`PUT`/`DELETE` that changes something; any 2xx is success.
    pub fn change(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        capability: &str,
    ) -> anyhow::Result<()> {
        let a = self.call(method, path, body)?;
        if (200..300).contains(&a.status) {
            Ok(())
        } else {
            Err(refusal(method, path, capability, &a))
        }
    }
}

/// A refused request: a 403 names the path and the capability the token lacks.
pub(super) fn refusal(method: &str, path: &str, capability: &str, a: &Answer) -> anyhow::Error {
    let errors: Vec<String> = a.body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    match a.status {
        403 => anyhow!(
            "permission denied: {method} {path} needs the `{capability}` capability on \"{path}\", which the token's policies do not grant (give the token a policy with path \"{path}\" {{ capabilities = [\"{capability}\"] }})"
        ),
        503 => anyhow!("{method} {path}: OpenBao is sealed or not ready (HTTP 503); unseal it and run again"),
        s => anyhow!("{method} {path}: HTTP {s}: {}", errors.join("; ")),
    }
}

fn transport(e: &ureq::Error, addr: &str) -> anyhow::Error {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("unknownissuer")
    {
        "the server's certificate is not trusted: pass --ca-cert (or set BAO_CACERT) to the CA that signed it, and check that the address's host name is in the certificate"
    } else if lower.contains("timeout") || lower.contains("timed out") {
        "the server did not answer in time: check the address and that OpenBao is running"
    } else {
        "check BAO_ADDR (or --addr) and that OpenBao listens there"
    };
    anyhow!("cannot reach OpenBao at {addr}: {text}; {hint}")
}

fn read_small(path: &Path) -> anyhow::Result<String> {
    let bytes = crate::fsio::read_regular(path, 64 * 1024).map_err(|e| anyhow!("{e}"))?;
    String::from_utf8(bytes).context("not UTF-8 text")
}
