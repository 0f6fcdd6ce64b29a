KUSTOMIZE_PLUGIN_HOME="$PWD/integrations/kustomize-plugin" \
  kubectl kustomize --enable-alpha-plugins openbao-overlay
