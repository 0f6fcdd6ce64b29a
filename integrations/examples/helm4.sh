helm plugin install ./integrations/helm-plugin
helm template openbao ./openbao-chart --namespace openbao \
  --values openbao-values.yaml \
  --post-renderer baogen \
  --post-renderer-args profiles/active.toml
