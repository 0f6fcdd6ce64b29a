//! The HTTPS client `verify`, `plan` and `apply` share: ureq over rustls (pure Rust, no async
//! runtime), trusting only the given CA (or Mozilla's roots without one), a timeout on every
//! request, and as many kept-alive connections as requests run at once.

use std::time::Duration;

use anyhow::bail;

pub fn agent(
    ca_pem: Option<&[u8]>,
    timeout: Duration,
    connections: usize,
) -> anyhow::Result<ureq::Agent> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder();
    if let Some(pem) = ca_pem {
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            bail!("the CA file holds no PEM certificate");
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_idle_connections_per_host(connections)
        .tls_config(tls.build())
        .build()
        .new_agent())
}
