//! What makes two Kubernetes objects the same object: API group, kind, namespace and name.
//! Shared by the integrations (objects already in a stream) and `render`/`check` (objects two
//! profiles for one Kubernetes cluster would both emit).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    /// The API group: `rbac.authorization.k8s.io` for `rbac.authorization.k8s.io/v1`, empty
    /// for the core group (`v1`). Versions do not matter: they are views of one object.
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Identity {
    pub fn of(v: &Value) -> Identity {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let api_version = s(v.get("apiVersion")).unwrap_or_default();
        Identity {
            group: api_version
                .rsplit_once('/')
                .map_or(String::new(), |(group, _)| group.to_string()),
            kind: s(v.get("kind")).unwrap_or_default(),
            namespace: s(v.pointer("/metadata/namespace")),
            name: s(v.pointer("/metadata/name")).unwrap_or_default(),
        }
    }

    /// An object without a namespace lands in whatever namespace it is applied to, so it may
    /// be the same object as one in any namespace.
    pub fn same(&self, other: &Identity) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.name == other.name
            && match (&self.namespace, &other.namespace) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// A file path for this object, stable across runs and unique per object: `KIND-NAME.yaml`
    /// for a cluster-scoped object, `NAMESPACE/KIND-NAME.yaml` for a namespaced one (a Role
    /// of the same name in two namespaces gets two files; a namespace has no `.`, so it never
    /// names a file).
    pub fn file_name(&self) -> String {
        let file = format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name);
        match &self.namespace {
            Some(ns) => format!("{ns}/{file}"),
            None => file,
        }
    }
}

/// `Kind namespace/name`, as people name objects (the group only disambiguates in code).
impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_group_comes_from_api_version_and_versions_do_not_matter() {
        let a = Identity::of(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "ci"}}),
        );
        let b = Identity::of(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1beta1", "kind": "Role", "metadata": {"name": "r", "namespace": "ci"}}),
        );
        let core = Identity::of(
            &json!({"apiVersion": "v1", "kind": "Role", "metadata": {"name": "r", "namespace": "ci"}}),
        );
        assert_eq!(a.group, "rbac.authorization.k8s.io");
        assert!(a.same(&b));
        assert!(!a.same(&core), "another group is another object");
        assert_eq!(core.group, "");
        assert_eq!(a.to_string(), "Role ci/r");
    }

    #[test]
    fn an_object_without_a_namespace_may_be_any_namespace_s() {
        let any = Identity::of(
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
        );
        let ns = Identity::of(
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"}}),
        );
        let other = Identity::of(
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "b"}}),
        );
        assert!(any.same(&ns) && ns.same(&any));
        assert!(!ns.same(&other));
        assert_eq!(ns.file_name(), "a/service-s.yaml");
        assert_eq!(any.file_name(), "service-s.yaml");
    }
}
