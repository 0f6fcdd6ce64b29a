//! The end-to-end harness: free loopback ports, a test CA, real `bao` and `prometheus`
//! processes that die with the test (by PID, also on panic), and small HTTP helpers.

#![allow(dead_code)] // shared by the e2e scenarios and chart_boot, which use different parts

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common;

/// Placeholder ports in the committed loopback variants; the harness rewrites them.
const PLACEHOLDERS: std::ops::Range<u32> = 18000..19000;

/// Ports handed out in this test process, so parallel scenarios never collide.
static RESERVED: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A block of `len` consecutive free ports on 127.0.0.1, outside the kernel's ephemeral range
/// (32768+) so outgoing connections cannot grab them between the check and the bind.
pub(crate) fn free_block(len: u16) -> u16 {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        ^ (u64::from(std::process::id()) << 16);
    let mut reserved = RESERVED.lock().unwrap();
    for _ in 0..500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = 20000 + (seed % 12000) as u16;
        let ports = base..base + len;
        if ports.clone().any(|p| reserved.contains(&p)) {
            continue;
        }
        if ports
            .clone()
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        {
            reserved.extend(ports);
            return base;
        }
    }
    panic!("no block of {len} free ports on 127.0.0.1");
}

/// The committed variant with its placeholder ports (18000-18999) moved, as one block that
/// keeps their spacing (and so the gap after each listener for its hidden cluster port), to
/// free ports. Returns the text and a map placeholder → real port.
pub(crate) fn rewrite_ports(text: &str) -> (String, BTreeMap<u16, u16>) {
    let bytes = text.as_bytes();
    let mut runs = Vec::new(); // (start, end, value)
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if let Ok(v) = text[start..i].parse::<u32>() {
                if i - start == 5 && PLACEHOLDERS.contains(&v) {
                    runs.push((start, i, v as u16));
                }
            }
        } else {
            i += 1;
        }
    }
    let (Some(min), Some(max)) = (
        runs.iter().map(|r| r.2).min(),
        runs.iter().map(|r| r.2).max(),
    ) else {
        return (text.to_string(), BTreeMap::new());
    };
    let base = free_block(max - min + 2);
    let map: BTreeMap<u16, u16> = runs.iter().map(|r| (r.2, base + (r.2 - min))).collect();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e, v) in &runs {
        out.push_str(&text[last..*s]);
        out.push_str(&map[v].to_string());
        last = *e;
    }
    out.push_str(&text[last..]);
    (out, map)
}

/// A server process killed by its PID when dropped, also while a failing test unwinds.
pub(crate) struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub(crate) fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Proc {
        let out = std::fs::File::create(&log).expect("create log file");
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.into(),
            child,
            log,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panic with the process's own output when it has exited (e.g. it refused its config).
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}); its output:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// OpenBao only warns on unknown keys and starts anyway: fail on any such warning.
    pub(crate) fn assert_no_unknown_fields(&self) {
        let bad: Vec<String> = self
            .log_text()
            .lines()
            .filter(|l| l.contains("unknown or unsupported field"))
            .map(str::to_string)
            .collect();
        assert!(
            bad.is_empty(),
            "{} warns about its generated config:\n{}",
            self.name,
            bad.join("\n")
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a tool to completion; panic with its output when it fails.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A test CA and a server certificate for localhost and 127.0.0.1 under `dir/tls/`, plus an
/// unrelated CA (`wrong-ca.crt`) for the TLS failure cases. Private keys exist only here.
pub(crate) fn make_pki(dir: &Path) -> PathBuf {
    let openssl = common::tool("openssl").expect("openssl");
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [("ca", "baogen e2e test CA"), ("wrong-ca", "unrelated CA")] {
        run(Command::new(&openssl)
            .current_dir(&tls)
            .args(["req", "-x509"])
            .args(ec)
            .args([
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
            ])
            .args(["-days", "2", "-subj", &format!("/CN={cn}")])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
    }
    std::fs::write(
        tls.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(Command::new(&openssl)
        .current_dir(&tls)
        .arg("req")
        .args(ec)
        .args([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]));
    run(Command::new(&openssl).current_dir(&tls).args([
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "server.ext",
    ]));
    tls
}

/// Blocking HTTP(S) that trusts only the test CA.
pub(crate) struct Http {
    agent: ureq::Agent,
}

impl Http {
    pub(crate) fn new(ca: Option<&Path>) -> Http {
        use ureq::tls::{PemItem, RootCerts, TlsConfig};
        let mut tls = TlsConfig::builder();
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).unwrap();
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|i| match i {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .proxy(None)
            .tls_config(tls.build())
            .build()
            .new_agent();
        Http { agent }
    }

    /// GET with an optional `Authorization: Bearer` token: status and body.
    pub(crate) fn get(&self, url: &str, bearer: Option<&str>) -> Result<(u16, String), String> {
        let mut req = self.agent.get(url);
        if let Some(t) = bearer {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.call().map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.body_mut().read_to_string().unwrap_or_default()))
    }

    /// An OpenBao API call with a JSON body and `X-Vault-Token`.
    pub(crate) fn api(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut req = match method {
            "PUT" => self.agent.put(url),
            _ => self.agent.post(url),
        };
        if let Some(t) = token {
            req = req.header("X-Vault-Token", t);
        }
        let mut resp = req
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Poll `f` every 200 ms until it returns `Some`, or panic after `limit` naming `what`.
pub(crate) fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One OpenBao server: its process, API base URL and the test CA.
pub(crate) struct Bao {
    pub proc: Proc,
    pub api: String,
}

impl Bao {
    /// `bao server` with the given config files, in `cwd` (relative paths resolve there).
    pub(crate) fn start(name: &str, cwd: &Path, configs: &[PathBuf], api: String) -> Bao {
        Bao::start_with_env(name, cwd, configs, api, &[])
    }

    /// `start`, with these variables in the server's environment (what a first boot reads).
    pub(crate) fn start_with_env(
        name: &str,
        cwd: &Path,
        configs: &[PathBuf],
        api: String,
        env: &[(&str, &str)],
    ) -> Bao {
        let bao = common::tool("bao").expect("bao");
        let mut cmd = Command::new(bao);
        cmd.current_dir(cwd).arg("server");
        for c in configs {
            cmd.arg(format!("-config={}", c.display()));
        }
        // The server must not pick up anything from the developer's environment.
        for (k, _) in std::env::vars() {
            if k.starts_with("BAO_") || k.starts_with("VAULT_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        let proc = Proc::spawn(name, cmd, cwd.join(format!("{name}.log")));
        Bao { proc, api }
    }

    /// Wait until the API listener answers /v1/sys/health, with any status.
    pub(crate) fn wait_listening(&mut self, http: &Http) {
        let url = format!("{}/v1/sys/health", self.api);
        let proc = &mut self.proc;
        wait_for(
            &format!("{} to listen", proc.name),
            Duration::from_secs(30),
            || {
                proc.assert_running();
                http.get(&url, None).ok()
            },
        );
    }

    /// Initialize with one key share; returns (unseal key, root token).
    pub(crate) fn init(&mut self, http: &Http) -> (String, String) {
        let (status, v) = http.api(
            "PUT",
            &format!("{}/v1/sys/init", self.api),
            None,
            &json!({"secret_shares": 1, "secret_threshold": 1}),
        );
        assert_eq!(status, 200, "init of {}: {v}", self.proc.name);
        (
            v["keys_base64"][0].as_str().unwrap().to_string(),
            v["root_token"].as_str().unwrap().to_string(),
        )
    }

    pub(crate) fn unseal(&mut self, http: &Http, key: &str) {
        let url = format!("{}/v1/sys/unseal", self.api);
        let proc = &mut self.proc;
        // A Raft follower says "not initialized" until retry_join has reached the leader.
        wait_for(
            &format!("{} to accept the unseal key", proc.name),
            Duration::from_secs(60),
            || {
                proc.assert_running();
                let (status, v) = http.api("PUT", &url, None, &json!({ "key": key }));
                match status {
                    200 => Some(()),
                    400 if v.to_string().contains("not initialized") => None,
                    _ => panic!("unseal of {}: {status} {v}", proc.name),
                }
            },
        );
    }

    /// Wait for /v1/sys/health to answer `want` (200 active, 429 standby, 503 sealed).
    pub(crate) fn wait_health(&mut self, http: &Http, want: u16) {
        let url = format!("{}/v1/sys/health", self.api);
        let proc = &mut self.proc;
        wait_for(
            &format!("{} health {want}", proc.name),
            Duration::from_secs(60),
            || {
                proc.assert_running();
                match http.get(&url, None) {
                    Ok((s, _)) if s == want => Some(()),
                    _ => None,
                }
            },
        );
    }
}

/// A Prometheus run by hand: generated config as is, data in a temp dir, loopback port.
pub(crate) struct Prom {
    pub proc: Proc,
    pub url: String,
}

impl Prom {
    pub(crate) fn start(config: &Path, data: &Path) -> Prom {
        let bin = common::tool("prometheus").expect("prometheus");
        let port = free_block(1);
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let proc = Proc::spawn(
            "prometheus",
            cmd,
            data.with_file_name(format!(
                "{}.log",
                data.file_name().unwrap().to_string_lossy()
            )),
        );
        Prom {
            proc,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// An instant query: (labels, value) per series.
    pub(crate) fn query(
        &self,
        http: &Http,
        q: &str,
    ) -> Option<Vec<(BTreeMap<String, String>, f64)>> {
        let url = format!("{}/api/v1/query?query={}", self.url, encode(q));
        let (status, body) = http.get(&url, None).ok()?;
        if status != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        Some(
            v["data"]["result"]
                .as_array()?
                .iter()
                .map(|s| {
                    let labels = s["metric"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let value = s["value"][1]
                        .as_str()
                        .unwrap_or("NaN")
                        .parse()
                        .unwrap_or(f64::NAN);
                    (labels, value)
                })
                .collect(),
        )
    }

    /// Wait until `q` returns a scalar-like single value (the sum over series) equal to `want`.
    pub(crate) fn wait_value(&mut self, http: &Http, q: &str, want: f64, limit: Duration) {
        let mut last = None;
        let start = Instant::now();
        loop {
            self.proc.assert_running();
            let got = self.query(http, q);
            if let Some(series) = &got {
                if series.len() == 1 && series[0].1 == want {
                    return;
                }
            }
            last = got.or(last);
            if start.elapsed() > limit {
                let targets = http
                    .get(&format!("{}/api/v1/targets", self.url), None)
                    .map(|r| r.1)
                    .unwrap_or_default();
                panic!(
                    "Prometheus: `{q}` did not return one series with value {want} within {limit:?}; last answer {last:?}\ntargets: {targets}\nlog:\n{}",
                    self.proc.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Percent-encode a query parameter.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
