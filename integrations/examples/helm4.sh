helm plugin install ./integrations/helm-plugin
helm template openbao ./openbao-chart --namespace openbao \
  --post-renderer baogen \
  --post-renderer-args profiles/active.toml
