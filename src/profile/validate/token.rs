//! The scrape token's role and renewal. A token made with `bao token create -policy=...` is a
//! child of the operator's token with the default 32-day TTL: it dies with its parent or after
//! 32 days, and scraping stops. A token role makes orphan, periodic tokens instead, and the
//! renewal CronJob keeps one alive.

use super::super::ctx::Ctx;
use super::super::raw;
use super::super::rules;
use super::selfinit::openbao_name;
use crate::diag::Code;
use crate::model::{self, Version};

/// Shortest period: OpenBao renews in whole seconds and Prometheus scrapes every few.
const MIN_PERIOD_SECS: u64 = 10;
/// Longest: the system's default maximum TTL, 768h.
const MAX_PERIOD_SECS: u64 = 768 * 3600;
/// The CronJob runs at most once a minute and renews at least four times per period.
const MIN_RENEWED_PERIOD_SECS: u64 = 4 * 60;

pub(super) struct Context<'a> {
    pub uses_token: bool,
    pub version: Version,
    pub openbao: &'a model::OpenBao,
    pub api: &'a model::ApiListener,
    pub policy_name: &'a str,
}

pub(super) fn token_role(
    cx: &mut Ctx<'_>,
    s: &raw::Scrape,
    c: &Context<'_>,
) -> Option<model::TokenRole> {
    if !c.uses_token {
        let set = [
            s.token_role.as_ref().map(|v| (v.span(), "token_role")),
            s.token_period.as_ref().map(|v| (v.span(), "token_period")),
            s.token_bound_cidrs
                .as_ref()
                .and_then(|v| v.first())
                .map(|v| (v.span(), "token_bound_cidrs")),
            s.renewal.as_ref().map(|r| (r.span(), "renewal")),
        ];
        for (span, key) in set.into_iter().flatten() {
            cx.error(
                Code::TokenOptionsUnused,
                Some(span),
                format!("scrape.{key} is set but Prometheus scrapes without a token"),
                "remove it, or make the scraped listener require a token",
            );
        }
        return None;
    }
    let name = match &s.token_role {
        Some(n) => {
            openbao_name(cx, n, "scrape.token_role");
            n.get().clone()
        }
        None => c.policy_name.to_string(),
    };
    let (period, period_ms, period_span) =
        cx.duration(&s.token_period, "24h", "scrape.token_period");
    let period_secs = period_ms / 1000;
    if period_span.is_some()
        && rules::duration_ms(&period).is_ok()
        && !(MIN_PERIOD_SECS..=MAX_PERIOD_SECS).contains(&period_secs)
    {
        cx.error(
            Code::TokenPeriod,
            period_span.clone(),
            format!("scrape.token_period '{period}' is outside 10s to 768h"),
            "a period such as 24h: the token lives as long as it is renewed within it",
        );
    }
    let mut bound_cidrs = Vec::new();
    for c in s.token_bound_cidrs.iter().flatten() {
        cx.check(
            Code::Cidr,
            c,
            "scrape.token_bound_cidrs entry",
            cidr,
            "the Prometheus pods' network, e.g. 10.42.0.0/16",
        );
        bound_cidrs.push(c.get().clone());
    }
    let renewal = s.renewal.as_ref().map(|r| {
        if period_secs < MIN_RENEWED_PERIOD_SECS {
            cx.error(
                Code::TokenPeriod,
                period_span.clone().or(Some(r.span())),
                format!("scrape.token_period '{period}' is too short for the renewal CronJob, which runs at most once a minute and must renew four times per period"),
                "use a period of at least 4m (24h is usual)",
            );
        }
        renewal(cx, r.get(), c, period_secs)
    });
    Some(model::TokenRole {
        name,
        period,
        period_secs,
        bound_cidrs,
        renewal,
    })
}

fn renewal(
    cx: &mut Ctx<'_>,
    r: &raw::Renewal,
    c: &Context<'_>,
    period_secs: u64,
) -> model::Renewal {
    let image = cx.image(
        &r.image,
        "scrape.renewal.image",
        format!("quay.io/openbao/openbao:{}", c.version),
    );
    let address = match &r.address {
        Some(a) => {
            cx.check(
                Code::RenewalAddress,
                a,
                "scrape.renewal.address",
                |s| {
                    let host = s.strip_prefix("https://").ok_or("is not an https URL")?;
                    let host = host.trim_end_matches('/');
                    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
                    rules::host(host).map_err(|e| format!("has a host that {e}"))?;
                    rules::file_path(s)
                },
                "OpenBao's API as a pod in OpenBao's namespace reaches it, e.g. https://openbao-active.openbao.svc:8200",
            );
            a.get().clone()
        }
        None => format!(
            "https://{}-active.{}.svc:{}",
            c.openbao.statefulset, c.openbao.namespace, c.api.address.port
        ),
    };
    model::Renewal {
        image,
        address,
        schedule: schedule(period_secs),
        alert_after_secs: period_secs / 2,
    }
}

/// A cron schedule that runs at least four times per period (at most once a minute, at least
/// once a day).
pub(super) fn schedule(period_secs: u64) -> String {
    let every_min = (period_secs / 4 / 60).max(1);
    if every_min < 60 {
        format!("*/{every_min} * * * *")
    } else if every_min / 60 < 24 {
        format!("0 */{} * * *", every_min / 60)
    } else {
        "0 0 * * *".into()
    }
}

/// An IPv4 or IPv6 CIDR block, or a single address.
fn cidr(s: &str) -> Result<(), String> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let max = match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return Err("is not an IP address or CIDR block".into()),
    };
    match bits.map(|b| (b, b.parse::<u8>())) {
        None => Ok(()),
        Some((b, Ok(n))) if n <= max && !b.starts_with('+') => Ok(()),
        Some(_) => Err(format!("has a prefix length that is not 0-{max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_renew_four_times_per_period() {
        assert_eq!(schedule(240), "*/1 * * * *");
        assert_eq!(schedule(3600), "*/15 * * * *");
        assert_eq!(schedule(86_400), "0 */6 * * *");
        assert_eq!(schedule(4 * 86_400), "0 0 * * *");
        assert_eq!(schedule(768 * 3600), "0 0 * * *");
        // The gap between two runs is never more than a quarter of the period.
        for period in [
            240, 300, 1000, 3600, 7200, 40_000, 86_400, 200_000, 2_764_800,
        ] {
            let s = schedule(period);
            let gap = if let Some(m) = s.strip_prefix("*/") {
                m.split(' ').next().unwrap().parse::<u64>().unwrap() * 60
            } else if let Some(h) = s.strip_prefix("0 */") {
                h.split(' ').next().unwrap().parse::<u64>().unwrap() * 3600
            } else {
                86_400
            };
            assert!(gap * 4 <= period.max(240), "{period}: {s}");
        }
    }

    #[test]
    fn cidrs() {
        for ok in [
            "10.42.0.0/16",
            "10.0.0.1",
            "::1/128",
            "fd00::/8",
            "0.0.0.0/0",
        ] {
            assert!(cidr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "10.42.0.0/33",
            "10.42/16",
            "::1/129",
            "10.0.0.0/+8",
            "host/8",
            "10.0.0.0/",
        ] {
            assert!(cidr(bad).is_err(), "{bad}");
        }
    }
}
