//! Small, pure checks shared by validation: Kubernetes names and labels, durations, addresses,
//! and the secret detector. Each returns `Err(reason)` in words a user can act on.

use std::path::Path;

/// RFC 1123 label: Service names, namespaces, port names' cousins. At most 63 characters.
pub(crate) fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "is {} characters long; at most 63 are allowed",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lower-case letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// RFC 1123 subdomain: Secret, ConfigMap, ServiceAccount and Role names. At most 253 characters.
pub(crate) fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!(
            "is {} characters long; at most 253 are allowed",
            s.len()
        ));
    }
    for part in s.split('.') {
        if part.is_empty()
            || part.starts_with('-')
            || part.ends_with('-')
            || !part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(
                "must be lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
                    .into(),
            );
        }
    }
    Ok(())
}

/// IANA service name, as Kubernetes requires for port names: at most 15 characters.
pub(crate) fn port_name(s: &str) -> Result<(), String> {
    dns_label(s)?;
    if s.len() > 15 {
        return Err(format!(
            "is {} characters long; port names allow at most 15",
            s.len()
        ));
    }
    if s.contains("--") {
        return Err("must not contain '--'".into());
    }
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    Ok(())
}

fn qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters.
pub(crate) fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns_subdomain(p).map_err(|e| format!("has a prefix '{p}' that {e}"))?;
    }
    if !qualified_name_part(name) {
        return Err(format!(
            "has a name part '{name}' that must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A name for a Kubernetes cluster: 1-253 characters of letters, digits and `-_.:/@`, which
/// covers kubeconfig context names and cloud cluster ARNs.
pub(crate) fn cluster_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1-253 characters".into());
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:/@".contains(*c)))
    {
        Some(c) => Err(format!(
            "contains {c:?}; use letters, digits and - _ . : / @"
        )),
        None => Ok(()),
    }
}

/// Label values: empty, or at most 63 characters of letters, digits, '-', '_', '.'.
pub(crate) fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || qualified_name_part(s) {
        Ok(())
    } else if s.len() > 63 {
        Err(format!(
            "is {} characters long; label values allow at most 63",
            s.len()
        ))
    } else {
        Err(
            "must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
                .into(),
        )
    }
}

/// Keys inside a Secret or ConfigMap.
pub(crate) fn config_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1-253 characters".into());
    }
    if s == "." || s == ".." {
        return Err("must not be '.' or '..'".into());
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// A duration both OpenBao (Go) and Prometheus read the same way: one or more `<n><unit>` with
/// units `h`, `m`, `s`, `ms` in that order, e.g. `30s`, `1h30m`. Returns milliseconds.
pub(crate) fn duration_ms(s: &str) -> Result<u64, String> {
    const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];
    let bad = || "is not a duration like 30s, 5m or 1h30m (units h, m, s, ms)".to_string();
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last_unit = None::<usize>;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| "is too large".to_string())?;
        rest = &rest[digits..];
        // `ms` must be tried before `m`.
        let (idx, unit, scale) = [3usize, 0, 1, 2]
            .iter()
            .map(|&i| (i, UNITS[i].0, UNITS[i].1))
            .find(|(_, u, _)| rest.starts_with(u))
            .ok_or_else(bad)?;
        if last_unit.is_some_and(|l| idx <= l) {
            return Err(
                "repeats a unit or lists them out of order (write h, m, s, ms)".to_string(),
            );
        }
        last_unit = Some(idx);
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "is too large".to_string())?;
    }
    // Go's time.Duration is int64 nanoseconds: about 2,562,047 hours.
    if total > (i64::MAX as u64) / 1_000_000 {
        return Err("is too large: OpenBao durations stop at about 2562047h".to_string());
    }
    Ok(total)
}

/// `host:port` or `[v6]:port`, port 1-65535.
pub(crate) fn address(s: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| "is not [IPv6]:port".to_string())?;
        (h, p)
    } else {
        s.rsplit_once(':')
            .ok_or_else(|| "is not host:port".to_string())?
    };
    if host.is_empty() {
        return Err("has no host (use 0.0.0.0 to listen on every interface)".to_string());
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
    {
        return Err("has an invalid host".to_string());
    }
    let port: u32 = port
        .parse()
        .map_err(|_| "has a port that is not a number".to_string())?;
    if port == 0 || port > 65535 {
        return Err(format!("has port {port}; ports are 1-65535"));
    }
    Ok((host.to_string(), port as u16))
}

/// A host name or IP address other nodes and Prometheus can dial.
pub(crate) fn host(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1-253 characters".into());
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
    {
        return Err("may contain only letters, digits, '.' and '-'".into());
    }
    // RFC 1123: dot-separated labels of 1-63 characters, none starting or ending with '-'.
    let label_ok =
        |l: &str| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-');
    if !s.split('.').all(label_ok) {
        return Err("is not a DNS name: each dot-separated part must be 1-63 letters, digits or '-', not starting or ending with '-'".into());
    }
    Ok(())
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a Prometheus metric name prefix, an environment variable name.
pub(crate) fn identifier(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A Prometheus label name an alert may carry: `[a-zA-Z_][a-zA-Z0-9_]*`, not `__`-reserved.
pub(crate) fn prometheus_label_name(s: &str) -> Result<(), String> {
    if !identifier(s) {
        Err(
            "is not a Prometheus label name (letters, digits and '_', not starting with a digit)"
                .into(),
        )
    } else if s.starts_with("__") {
        Err("starts with '__', which Prometheus reserves".into())
    } else {
        Ok(())
    }
}

/// A label value on an alert rule: Prometheus expands `{{ }}` in rule labels as a template, so
/// a value must not contain one; at most 256 characters, no control characters.
pub(crate) fn prometheus_label_value(s: &str) -> Result<(), String> {
    if s.len() > 256 {
        Err(format!("is {} characters long; at most 256", s.len()))
    } else if s.chars().any(char::is_control) {
        Err("contains a control character".into())
    } else if s.contains("{{") || s.contains("}}") {
        Err("contains '{{' or '}}', which Prometheus would expand as a template".into())
    } else {
        Ok(())
    }
}

/// The published output directory an alert's `runbook_url` starts with: http(s), a host, no
/// query, fragment, whitespace, quotes or template braces (it lands in a rule annotation,
/// which Prometheus expands as a template).
pub(crate) fn url_base(s: &str) -> Result<(), String> {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return Err("does not start with https:// or http://".into());
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host".into());
    }
    if s.len() > 1024 {
        return Err(format!("is {} characters long; at most 1024", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "?#\"'<>{}`\\".contains(*c))
    {
        return Err(format!(
            "contains {c:?}; give the directory's URL without query, fragment or quotes"
        ));
    }
    Ok(())
}

/// A container image reference: no whitespace or control characters (the registry decides
/// the rest).
pub(crate) fn image(s: &str) -> Result<(), String> {
    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err("is not an image reference".to_string())
    }
}

/// A file path inside a container or on the Prometheus host.
pub(crate) fn file_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = s.chars().find(|&c| unsafe_char(c)) {
        return Err(format!(
            "must not contain control, line-separator or bidirectional-format characters (found U+{:04X})",
            c as u32
        ));
    }
    // OpenBao parses its config with HCL 1, which has no `$${` escape: refuse what HCL 2
    // tools would treat as a template instead of emitting a value that means two things.
    if s.contains("${") || s.contains("%{") {
        return Err("must not contain '${' or '%{' (template sequences)".into());
    }
    if s.contains('"') || s.contains('\\') {
        return Err("must not contain quotes or backslashes".into());
    }
    Ok(())
}

/// Characters that can end a line or reorder text for some reader of an artifact (YAML 1.1
/// breaks lines at U+0085, U+2028 and U+2029; terminals and editors obey bidirectional
/// overrides), and therefore never appear in a name or path baogen writes.
pub(crate) fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Why the file name of a profile cannot be written into artifact headers, if it cannot.
pub(crate) fn unsafe_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?;
    let Some(name) = name.to_str() else {
        return Some("is not valid UTF-8".into());
    };
    name.chars()
        .find(|&c| unsafe_char(c))
        .map(|c| format!("contains the character U+{:04X}", c as u32))
}

/// Does this string hold something shaped like a credential, anywhere in it (`Bearer hvs.…`, a
/// PEM private key inside a longer value)? Profiles name the Secret that holds a token, never
/// the token itself; keys are scanned as well as values.
pub(crate) fn looks_like_secret(s: &str) -> Option<&'static str> {
    // Every shape below has a '.' or a PEM dash line: most keys and names have neither, and a
    // profile of 10,000 roles passes through here some 130,000 times.
    if !s.contains('.') && !s.contains("-----") {
        return None;
    }
    if let Some(begin) = s.find("-----BEGIN") {
        if s[begin..].contains("PRIVATE KEY") {
            return Some("a PEM private key");
        }
    }
    let b = s.as_bytes();
    let token_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    // Length of the run of token characters starting at `i`.
    let run = |i: usize| {
        b[i.min(b.len())..]
            .iter()
            .take_while(|&&c| token_char(c))
            .count()
    };
    for (i, &c) in b.iter().enumerate() {
        // Every credential starts with one of these ASCII letters (so `i` is a character
        // boundary), at a word boundary: not inside a longer word such as "kubernetes.io".
        if !matches!(c, b'h' | b's' | b'b' | b'r' | b'e') || (i > 0 && token_char(b[i - 1])) {
            continue;
        }
        let rest = &b[i..];
        // OpenBao/Vault tokens: service `hvs.`, batch `hvb.`, recovery `hvr.` (any length past
        // 20), and the legacy `s.`/`b.`/`r.` forms of exactly 24 characters.
        for prefix in [&b"hvs."[..], b"hvb.", b"hvr."] {
            if rest.starts_with(prefix) && run(i + prefix.len()) >= 20 {
                return Some("an OpenBao token");
            }
        }
        for prefix in [&b"s."[..], b"b.", b"r."] {
            if rest.starts_with(prefix)
                && run(i + 2) == 24
                && rest[2..26].iter().all(u8::is_ascii_alphanumeric)
            {
                return Some("an OpenBao token");
            }
        }
        // A JSON Web Token (a Kubernetes service account token): three base64url parts, the
        // header starting `eyJ` (`{"`).
        if rest.starts_with(b"eyJ") {
            let head = run(i);
            let p1 = i + head;
            if head >= 10 && b.get(p1) == Some(&b'.') {
                let body = run(p1 + 1);
                let p2 = p1 + 1 + body;
                if body >= 4 && b.get(p2) == Some(&b'.') && run(p2 + 1) >= 4 {
                    return Some("a JSON Web Token");
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("30s"), Ok(30_000));
        assert_eq!(duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(duration_ms("250ms"), Ok(250));
        assert!(duration_ms("30").is_err());
        assert!(duration_ms("1m1h").is_err());
        assert!(duration_ms("s").is_err());
        assert!(duration_ms("99999999999999999999h").is_err());
        assert!(duration_ms("3000000h").is_err());
    }

    #[test]
    fn names_and_labels() {
        assert!(dns_label("openbao-active-metrics").is_ok());
        assert!(dns_label("Openbao").is_err());
        assert!(dns_label(&"a".repeat(63)).is_ok());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("openbao-active").is_ok());
        assert!(label_key("-bad").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("true").is_ok());
        assert!(label_value("has space").is_err());
        assert!(port_name("https-metrics").is_ok());
        assert!(port_name("https-metrics-port").is_err());
    }

    #[test]
    fn secrets() {
        assert!(looks_like_secret("s.AbCdEfGhIjKlMnOpQrStUvWx").is_some());
        assert!(looks_like_secret("hvs.CAESIJ1234567890abcdefghij").is_some());
        assert!(looks_like_secret("-----BEGIN RSA PRIVATE KEY-----\nabc").is_some());
        assert!(looks_like_secret("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl").is_some());
        assert!(looks_like_secret("openbao-metrics-token").is_none());
        assert!(looks_like_secret("s.short").is_none());
        // Anywhere in a value, not only at its start; never inside a longer word.
        assert!(
            looks_like_secret("Authorization: Bearer hvs.CAESIJ1234567890abcdefghij").is_some()
        );
        assert!(looks_like_secret("x -----BEGIN EC PRIVATE KEY----- y").is_some());
        assert!(looks_like_secret("tok=eyJhbGciOiJIUzI1.eyJzdWIiOi.c2lnbmF0dXJl;").is_some());
        assert!(looks_like_secret("kubernetes.io/metadata.name").is_none());
        assert!(looks_like_secret("this.hvs.CAESIJ1234567890abcdefghij").is_some());
        assert!(looks_like_secret("xhvs.CAESIJ1234567890abcdefghij").is_none());
    }

    #[test]
    fn alert_labels_and_runbook_bases() {
        assert!(prometheus_label_name("team_1").is_ok());
        assert!(prometheus_label_name("_team").is_ok());
        assert!(prometheus_label_name("1team").is_err());
        assert!(prometheus_label_name("team-a").is_err());
        assert!(prometheus_label_name("__name").is_err());
        assert!(prometheus_label_value(&"v".repeat(256)).is_ok());
        assert!(prometheus_label_value(&"v".repeat(257)).is_err());
        assert!(prometheus_label_value("a\tb").is_err());
        assert!(prometheus_label_value("{{ $value }").is_err());
        assert!(prometheus_label_value("{ $value }}").is_err());
        assert!(prometheus_label_value("{ one brace }").is_ok());
        assert!(url_base("https://github.com/acme/infra/blob/main/deploy").is_ok());
        assert!(url_base("http://wiki.internal/ops").is_ok());
        assert!(url_base("ftp://wiki.internal/ops").is_err());
        assert!(url_base("https:///ops").is_err());
        let long = |n: usize| format!("https://x/{}", "a".repeat(n - "https://x/".len()));
        assert!(url_base(&long(1024)).is_ok());
        assert!(url_base(&long(1025)).is_err());
        for bad in [
            " ", "\n", "?", "#", "\"", "'", "<", ">", "{", "}", "`", "\\",
        ] {
            assert!(url_base(&format!("https://x/a{bad}b")).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(address("0.0.0.0:8200"), Ok(("0.0.0.0".into(), 8200)));
        assert_eq!(address("[::]:8200"), Ok(("::".into(), 8200)));
        assert!(address("0.0.0.0:0").is_err());
        assert!(address("0.0.0.0:70000").is_err());
        assert!(address("8200").is_err());
    }
}
