here=$(cd "$(dirname "$0")" && pwd)
KUSTOMIZE_PLUGIN_HOME="$here/../../kustomize-plugin" \
  kubectl kustomize --enable-alpha-plugins "$here/openbao-overlay"
