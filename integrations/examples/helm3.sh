helm template openbao ./openbao-chart --namespace openbao \
  --values openbao-values.yaml \
  --post-renderer baogen \
  --post-renderer-args helm-post-render \
  --post-renderer-args profiles/active.toml
