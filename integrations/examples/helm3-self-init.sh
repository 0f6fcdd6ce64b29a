helm template openbao ./openbao-chart --namespace openbao \
  --values openbao-values.yaml \
  --values openbao-values-self-init.yaml \
  --post-renderer baogen \
  --post-renderer-args helm-post-render \
  --post-renderer-args profiles/examples/self-init.toml
