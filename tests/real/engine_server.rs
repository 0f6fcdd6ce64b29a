#![allow(dead_code)]
//! A real OpenBao server for tests: raft storage in a temp dir, TLS off on 127.0.0.1, one
//! unseal key, the root token. Killed (by PID) and cleaned up on drop, also on panic.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TempDir;

pub(crate) struct Bao {
    child: Child,
    pub dir: TempDir,
    pub addr: String,
    pub token: String,
    pub log: PathBuf,
    /// The one unseal key, for a restart on the same storage.
    unseal_key: String,
    config: PathBuf,
}

/// A port P on 127.0.0.1 with P+1 free too (the cluster listener).
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = a.local_addr().unwrap().port();
        if port < 65535 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports on 127.0.0.1");
}

/// A response: status code and JSON body (Null when empty or not JSON).
pub(crate) struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub text: String,
}

/// A tiny HTTP/1.0 client: one request per connection, no chunked encoding to decode.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let host = addr.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n", body.len());
    if let Some(t) = token {
        req.push_str(&format!("X-Vault-Token: {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, text) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    Reply {
        status,
        body: serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        text: text.to_string(),
    }
}

impl Bao {
    pub(crate) fn start(bao: &Path) -> Bao {
        let dir = TempDir::new("bao");
        let port = free_port_pair();
        let config = format!(
            r#"storage "raft" {{
  path = "{raft}"
  node_id = "n1"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "https://127.0.0.1:{cluster}"
"#,
            raft = dir.path().join("raft").display(),
            cluster = port + 1,
        );
        std::fs::create_dir_all(dir.path().join("raft")).unwrap();
        let cfg = dir.path().join("server.hcl");
        std::fs::write(&cfg, config).unwrap();
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(bao)
            .arg("server")
            .arg(format!("-config={}", cfg.display()))
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start bao server");
        let mut b = Bao {
            child,
            dir,
            addr: format!("http://127.0.0.1:{port}"),
            token: String::new(),
            log,
            unseal_key: String::new(),
            config: cfg,
        };
        b.wait(|b| TcpStream::connect(b.addr.trim_start_matches("http://")).is_ok());
        let init = http(
            &b.addr,
            "PUT",
            "/v1/sys/init",
            None,
            Some(r#"{"secret_shares":1,"secret_threshold":1}"#),
        );
        assert_eq!(init.status, 200, "init: {}", init.text);
        b.unseal_key = init.body["keys_base64"][0].as_str().unwrap().to_string();
        b.token = init.body["root_token"].as_str().unwrap().to_string();
        b.unseal();
        b
    }

    fn unseal(&mut self) {
        let unseal = http(
            &self.addr,
            "PUT",
            "/v1/sys/unseal",
            None,
            Some(&format!(r#"{{"key":"{}"}}"#, self.unseal_key)),
        );
        assert_eq!(unseal.status, 200, "unseal: {}", unseal.text);
        self.wait(|b| http(&b.addr, "GET", "/v1/sys/health", None, None).status == 200);
    }

    /// Kill the server at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start the server again on the same storage and unseal it.
    pub(crate) fn restart(&mut self, bao: &Path) {
        self.kill();
        let out = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap();
        self.child = Command::new(bao)
            .arg("server")
            .arg(format!("-config={}", self.config.display()))
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("restart bao server");
        self.wait(|b| TcpStream::connect(b.addr.trim_start_matches("http://")).is_ok());
        self.unseal();
    }

    fn wait(&mut self, ready: impl Fn(&Bao) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("bao server exited ({status}):\n{}", self.log_text());
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("bao server not ready after 60 s:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        http(&self.addr, method, path, Some(&self.token), body)
    }

    /// Mount the Kubernetes secrets engine at `kubernetes/`.
    pub(crate) fn enable_kubernetes(&self) {
        let enable = self.call(
            "POST",
            "/v1/sys/mounts/kubernetes",
            Some(r#"{"type":"kubernetes"}"#),
        );
        assert!(enable.status < 300, "{}", enable.text);
    }

    /// Fail on the warning OpenBao prints instead of refusing an unknown config key.
    pub(crate) fn assert_clean_log(&self) {
        let log = self.log_text();
        assert!(
            !log.contains("unknown or unsupported field"),
            "OpenBao warned about its configuration:\n{log}"
        );
    }

    /// A `bao` CLI command pointed at this server.
    pub(crate) fn cli(&self, bao: &Path) -> Command {
        let mut c = Command::new(bao);
        c.env("BAO_ADDR", &self.addr).env("BAO_TOKEN", &self.token);
        c
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
