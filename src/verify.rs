//! `baogen verify`: the how-to's "Verify the result" checks against a live deployment, each
//! printed with pass/fail and, on failure, the matching "Troubleshooting" hint of the how-to.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

use crate::model::{Kind, Profile};

/// Where the live deployment is.
#[derive(Debug, Clone)]
pub struct Target {
    /// Prometheus base URL, e.g. `http://127.0.0.1:9090`.
    pub prometheus: String,
    /// OpenBao base URL of the scraped listener, for the direct `curl` check of the how-to.
    pub openbao: Option<String>,
    /// PEM CA that signed OpenBao's serving certificate.
    pub ca: Option<PathBuf>,
    /// File holding the metrics token.
    pub token_file: Option<PathBuf>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// The how-to's troubleshooting advice for this failure.
    pub hint: Option<String>,
}

/// A failure of the kind the how-to's troubleshooting section names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Forbidden,
    Tls,
    Sealed,
    NoTargets,
    Other,
}

/// Sort an error text (Prometheus's `lastError`, an HTTP client error) into a cause.
pub fn classify(error: &str) -> Cause {
    let e = error.to_ascii_lowercase();
    if e.contains("403") || e.contains("forbidden") || e.contains("permission denied") {
        Cause::Forbidden
    } else if e.contains("x509")
        || e.contains("certificate")
        || e.contains("tls")
        || e.contains("unknownissuer")
        || e.contains("handshake")
    {
        Cause::Tls
    } else if e.contains("503") || e.contains("sealed") {
        Cause::Sealed
    } else {
        Cause::Other
    }
}

/// The how-to's troubleshooting text for a cause, filled in with this profile's names.
pub fn hint(p: &Profile, cause: Cause) -> Option<String> {
    let s = &p.scrape;
    Some(match cause {
        Cause::Forbidden => {
            let secret = s
                .token_secret
                .as_ref()
                .map_or_else(String::new, |t| format!(" ({}/{})", t.name, t.key));
            format!(
                "The target returns 403: check the OpenBao token policy; the token must include access to sys/metrics (policy `{}`). Also check that the Kubernetes Secret key name{secret} matches the authorization credentials in the monitor.",
                s.policy_name
            )
        }
        Cause::Tls => {
            let ca = s
                .ca_config_map
                .as_ref()
                .map_or_else(String::new, |c| format!(" ({}/{})", c.name, c.key));
            format!(
                "The target has a TLS error: check the CA certificate{ca} and serverName `{}` in tlsConfig. Do not use insecureSkipVerify: true.",
                s.server_name
            )
        }
        Cause::NoTargets => {
            let mut h = format!(
                "No target for job `{}`. If the Service `{}` has no endpoints: check that Kubernetes service registration is enabled and that OpenBao can patch its pod labels; the service account `{}` needs get, update and patch on pods.",
                s.job, s.service_name, p.openbao.service_account
            );
            if p.kind != Kind::Demo {
                h.push_str(" If Prometheus does not discover the monitor: check its labels against the Prometheus resource's selector and namespace selector.");
            }
            h
        }
        Cause::Sealed => "OpenBao answers 503: the node is sealed (or not the active node). Unseal it; authenticated metrics are only served by an unsealed active node.".into(),
        Cause::Other => return None,
    })
}

/// Checks with names and expectations from the how-to; see `run`.
pub fn run(p: &Profile, t: &Target) -> anyhow::Result<Vec<Check>> {
    let ca = match &t.ca {
        Some(f) => Some(
            crate::fsio::read_regular(f, 1 << 20)
                .with_context(|| format!("cannot read --ca {}", f.display()))?,
        ),
        None => None,
    };
    let token = match &t.token_file {
        Some(f) => Some(
            String::from_utf8_lossy(
                &crate::fsio::read_regular(f, 64 * 1024)
                    .with_context(|| format!("cannot read --token-file {}", f.display()))?,
            )
            .trim()
            .to_string(),
        ),
        None => None,
    };
    if t.openbao.is_some() && p.scrape.uses_token() && token.is_none() {
        bail!(
            "the {} profile scrapes with a token: pass --token-file FILE with the metrics token",
            p.kind.as_str()
        );
    }
    let client = Client::new(ca.as_deref())?;

    let mut out = Vec::new();
    let prom = t.prometheus.trim_end_matches('/');
    let job = &p.scrape.job;
    let prefix = p.telemetry.prefix();

    // Query Prometheus: up{job="openbao"}.
    let up_q = format!("up{{job=\"{job}\"}}");
    let mut targets_seen = false;
    match client.query(prom, &up_q) {
        Err(e) => out.push(fail(
            &up_q,
            format!("cannot query Prometheus at {prom}: {e:#}"),
            None,
        )),
        Ok(series) => {
            targets_seen = !series.is_empty();
            out.push(up_check(p, &client, prom, &up_q, &series));
        }
    }

    // Check the active node metric: one series with value 1.
    let active_q = format!("{prefix}_core_active{{job=\"{job}\"}}");
    match client.query(prom, &active_q) {
        Err(e) => out.push(fail(
            &active_q,
            format!("cannot query Prometheus at {prom}: {e:#}"),
            None,
        )),
        Ok(series) => {
            let ones = series.iter().filter(|(_, v)| *v == 1.0).count();
            let detail = describe(&series);
            if ones == 1 {
                out.push(pass(
                    &active_q,
                    format!("exactly one active node; {detail}"),
                ));
            } else if series.is_empty() && targets_seen {
                // The targets exist but their scrapes fail: the up check above says why.
                out.push(fail(
                    &active_q,
                    "no series: no scrape of the target succeeds (see the check above)".into(),
                    None,
                ));
            } else if series.is_empty() {
                out.push(fail(
                    &active_q,
                    "no series: Prometheus scrapes no unsealed active node".into(),
                    hint(p, Cause::NoTargets),
                ));
            } else {
                out.push(fail(
                    &active_q,
                    format!("{ones} series with value 1, expected exactly one; {detail}"),
                    None,
                ));
            }
        }
    }

    // Test the OpenBao endpoint directly, as the how-to's curl does.
    if let Some(base) = &t.openbao {
        let url = format!(
            "{}/v1/sys/metrics?format=prometheus",
            base.trim_end_matches('/')
        );
        let name = format!("GET {url}");
        match client.get(&url, token.as_deref()) {
            Err(e) => {
                let text = format!("{e:#}");
                let cause = classify(&text);
                out.push(fail(&name, text, hint(p, cause)));
            }
            Ok((200, body)) => {
                let metric = format!("{prefix}_core_active");
                if body.lines().any(|l| l.starts_with(&metric)) {
                    out.push(pass(&name, format!("200, Prometheus text with {metric}")));
                } else {
                    out.push(fail(
                        &name,
                        format!("200 but no {metric} in the body"),
                        None,
                    ));
                }
            }
            Ok((status, body)) => {
                let cause = classify(&status.to_string());
                out.push(fail(
                    &name,
                    format!("HTTP {status}: {}", first_line(&body)),
                    hint(p, cause),
                ));
            }
        }
    }
    Ok(out)
}

fn up_check(
    p: &Profile,
    client: &Client,
    prom: &str,
    name: &str,
    series: &[(String, f64)],
) -> Check {
    if series.is_empty() {
        return fail(name, "no series".into(), hint(p, Cause::NoTargets));
    }
    let down = series.iter().filter(|(_, v)| *v != 1.0).count();
    let detail = describe(series);
    let expected = match (&p.demo, p.kind) {
        (Some(d), _) => Some(d.nodes.len()),
        (None, Kind::Active) => Some(1),
        (None, _) => None,
    };
    if down == 0 && expected.is_none_or(|n| n == series.len()) {
        return pass(name, format!("{} target(s) up; {detail}", series.len()));
    }
    if down == 0 {
        let n = expected.unwrap_or_default();
        return fail(
            name,
            format!("{} target(s), expected {n}; {detail}", series.len()),
            None,
        );
    }
    // Prometheus knows why a scrape failed: use its lastError to pick the hint.
    let errors = client
        .target_errors(prom, &p.scrape.job)
        .unwrap_or_default();
    let cause = errors
        .iter()
        .map(|e| classify(e))
        .find(|c| *c != Cause::Other)
        .unwrap_or(Cause::Other);
    let why = if errors.is_empty() {
        String::new()
    } else {
        format!("; last scrape error: {}", errors.join("; "))
    };
    fail(
        name,
        format!("{down} of {} target(s) down; {detail}{why}", series.len()),
        hint(p, cause),
    )
}

fn pass(name: &str, detail: String) -> Check {
    Check {
        name: name.into(),
        ok: true,
        detail,
        hint: None,
    }
}

fn fail(name: &str, detail: String, hint: Option<String>) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail,
        hint,
    }
}

fn describe(series: &[(String, f64)]) -> String {
    let parts: Vec<String> = series.iter().map(|(l, v)| format!("{l} = {v}")).collect();
    parts.join(", ")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// The report `verify` prints: one line per check, hints indented under failures.
pub fn report(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = if c.ok { "PASS" } else { "FAIL" };
        out.push_str(&format!("{mark}  {}: {}\n", c.name, c.detail));
        if let Some(h) = &c.hint {
            out.push_str(&format!("      hint: {h}\n"));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        out.push_str(&format!("all {} checks passed\n", checks.len()));
    } else {
        out.push_str(&format!("{failed} of {} checks failed\n", checks.len()));
    }
    out
}

/// A blocking HTTP(S) client that trusts only the given CA (or Mozilla's roots without one).
struct Client {
    agent: ureq::Agent,
}

impl Client {
    fn new(ca_pem: Option<&[u8]>) -> anyhow::Result<Self> {
        let agent = crate::https::agent(ca_pem, Duration::from_secs(10), 3).context("--ca")?;
        Ok(Client { agent })
    }

    /// Status and body, or the transport error as text.
    fn get(&self, url: &str, token: Option<&str>) -> anyhow::Result<(u16, String)> {
        let mut req = self.agent.get(url);
        if let Some(t) = token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.call().map_err(|e| anyhow!(error_text(&e)))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| anyhow!(error_text(&e)))
            .context("reading the answer")?;
        Ok((status, body))
    }

    fn api(&self, prom: &str, path: &str, query: Option<&str>) -> anyhow::Result<Value> {
        let mut req = self.agent.get(format!("{prom}{path}"));
        if let Some(q) = query {
            req = req.query("query", q);
        }
        let mut resp = req
            .call()
            .map_err(|e| anyhow!(error_text(&e)))
            .with_context(|| format!("GET {path}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| anyhow!(error_text(&e)))
            .with_context(|| format!("reading the answer to GET {path}"))?;
        if status != 200 {
            bail!("GET {path}: HTTP {status}: {}", first_line(&body));
        }
        serde_json::from_str(&body)
            .with_context(|| format!("GET {path}: not a Prometheus API answer"))
    }

    /// An instant query: each series' labels (as text) and value.
    fn query(&self, prom: &str, q: &str) -> anyhow::Result<Vec<(String, f64)>> {
        let v = self.api(prom, "/api/v1/query", Some(q))?;
        let result = v["data"]["result"]
            .as_array()
            .context("the answer has no data.result")?;
        Ok(result
            .iter()
            .map(|s| {
                let labels = s["metric"]
                    .as_object()
                    .map(|m| {
                        let l: Vec<String> = m
                            .iter()
                            .filter(|(k, _)| {
                                matches!(k.as_str(), "instance" | "node" | "pod" | "__name__")
                            })
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                            .collect();
                        format!("{{{}}}", l.join(","))
                    })
                    .unwrap_or_default();
                let value = s["value"][1]
                    .as_str()
                    .and_then(|x| x.parse().ok())
                    .unwrap_or(f64::NAN);
                (labels, value)
            })
            .collect())
    }

    /// `lastError` of every unhealthy target of the job.
    fn target_errors(&self, prom: &str, job: &str) -> anyhow::Result<Vec<String>> {
        let v = self.api(prom, "/api/v1/targets", None)?;
        Ok(v["data"]["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["labels"]["job"] == job && t["health"] != "up")
            .filter_map(|t| t["lastError"].as_str().map(str::to_string))
            .filter(|e| !e.is_empty())
            .collect())
    }
}

/// The whole error chain, so a TLS failure inside an I/O error still says "certificate".
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_matches_the_how_to_troubleshooting_sections() {
        assert_eq!(
            classify("server returned HTTP status 403 Forbidden"),
            Cause::Forbidden
        );
        assert_eq!(
            classify("Get \"https://x\": x509: certificate signed by unknown authority"),
            Cause::Tls
        );
        assert_eq!(
            classify("invalid peer certificate: UnknownIssuer"),
            Cause::Tls
        );
        assert_eq!(
            classify("server returned HTTP status 503 Service Unavailable"),
            Cause::Sealed
        );
        assert_eq!(classify("connection refused"), Cause::Other);
    }
}
