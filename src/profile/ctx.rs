//! The validation context: the profile being checked, the files `load` read for it, and the
//! diagnostics found so far, with the helpers every rule uses to report a problem.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use super::raw::{self, Sp};
use super::rules;
use crate::diag::{Code, Diagnostic};
use crate::model;

/// Collects diagnostics while validation walks the profile.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    /// The files the profile was merged from: where each value was written, and the
    /// directory its relative paths resolve against.
    pub layers: &'a super::layers::Layers,
    /// The files the profile names, as `load` read them: validation reads nothing itself.
    pub files: &'a super::NamedFiles,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        path: &'a Path,
        layers: &'a super::layers::Layers,
        files: &'a super::NamedFiles,
    ) -> Self {
        Ctx {
            path,
            layers,
            files,
            diags: Vec::new(),
        }
    }

    pub(super) fn error(
        &mut self,
        code: Code,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Diagnostic::new(code, self.path, span, message).help(help));
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// A clash: `message` at `span`, and `first_label` at the `first` place it clashes with.
    pub(super) fn clash(
        &mut self,
        code: Code,
        span: Range<usize>,
        message: impl Into<String>,
        first: Range<usize>,
        first_label: impl Into<String>,
        help: &str,
    ) {
        let d = Diagnostic::new(code, self.path, Some(span), message)
            .label(first, first_label)
            .help(help);
        self.push(d);
    }

    /// `remove = true` reaches validation only in a profile without bases (the merge consumes
    /// it otherwise): there is nothing to delete.
    pub(super) fn no_removal(&mut self, remove: &Option<Sp<bool>>, what: &str) {
        if let Some(r) = remove.as_ref().filter(|r| *r.get()) {
            self.error(
                Code::RemoveEntry,
                Some(r.span()),
                format!("remove = true, but this profile extends no base, so there is no inherited {what} to delete"),
                "delete the whole entry instead, or add extends = \"base.toml\" naming the base that declares it",
            );
        }
    }

    /// Whether a problem with this code was found so far.
    pub(super) fn found(&self, code: Code) -> bool {
        self.diags.iter().any(|d| d.code == code)
    }

    /// Run a string check; on failure report `<what> <reason>` at the value.
    pub(super) fn check<T>(
        &mut self,
        code: Code,
        value: &Sp<String>,
        what: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
        help: &str,
    ) -> Option<T> {
        match check(value.get()) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.error(
                    code,
                    Some(value.span()),
                    format!("{what} '{}' {reason}", value.get().escape_debug()),
                    help,
                );
                None
            }
        }
    }

    pub(super) fn name(
        &mut self,
        value: &Option<Sp<String>>,
        default: &str,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> String {
        match value {
            Some(v) => {
                self.check(
                    Code::KubernetesName,
                    v,
                    what,
                    check,
                    "use a valid Kubernetes name, e.g. openbao-metrics",
                );
                v.get().clone()
            }
            None => default.to_string(),
        }
    }

    pub(super) fn labels(&mut self, labels: &raw::Labels, what: &str) -> model::Labels {
        let mut out = BTreeMap::new();
        for (k, v) in labels {
            self.check(
                Code::LabelKey,
                k,
                &format!("{what} key"),
                rules::label_key,
                "label keys look like app.kubernetes.io/name",
            );
            self.check(
                Code::LabelValue,
                v,
                &format!("{what} value for '{}'", k.get()),
                rules::label_value,
                "label values are at most 63 characters of letters, digits, '-', '_' and '.'",
            );
            out.insert(k.get().clone(), v.get().clone());
        }
        out
    }

    pub(super) fn duration(
        &mut self,
        value: &Option<Sp<String>>,
        default: &str,
        what: &str,
    ) -> (String, u64, Option<Range<usize>>) {
        match value {
            Some(v) => {
                let ms = self
                    .check(
                        Code::Duration,
                        v,
                        what,
                        rules::duration_ms,
                        "write a duration such as 30s, 5m or 1h",
                    )
                    .unwrap_or(0);
                (v.get().clone(), ms, Some(v.span()))
            }
            None => (
                default.to_string(),
                rules::duration_ms(default).unwrap_or(0),
                None,
            ),
        }
    }

    /// A container image reference, or `default`.
    pub(super) fn image(
        &mut self,
        value: &Option<Sp<String>>,
        what: &str,
        default: String,
    ) -> String {
        match value {
            Some(i) => {
                self.check(
                    Code::Image,
                    i,
                    what,
                    rules::image,
                    "e.g. quay.io/openbao/openbao:2.7.2",
                );
                i.get().clone()
            }
            None => default,
        }
    }

    pub(super) fn address(&mut self, value: &Sp<String>, what: &str) -> Option<model::Address> {
        self.check(
            Code::Address,
            value,
            what,
            rules::address,
            "write host:port, e.g. 0.0.0.0:8200",
        )
        .map(|(host, port)| model::Address { host, port })
    }

    pub(super) fn path(&mut self, value: &Sp<String>, what: &str) -> String {
        self.check(
            Code::FilePath,
            value,
            what,
            rules::file_path,
            "give the path of the file inside the OpenBao container",
        );
        value.get().clone()
    }

    pub(super) fn key_ref(&mut self, r: &raw::KeyRef, what: &str) -> model::KeyRef {
        self.check(
            Code::KubernetesName,
            &r.name,
            &format!("{what} name"),
            rules::dns_subdomain,
            "use the Kubernetes object's name, e.g. openbao-metrics-token",
        );
        self.check(
            Code::KubernetesName,
            &r.key,
            &format!("{what} key"),
            rules::config_key,
            "use the key inside the object, e.g. token or ca.crt",
        );
        model::KeyRef {
            name: r.name.get().clone(),
            key: r.key.get().clone(),
        }
    }
}
