#!/bin/sh
# Runs `baogen helm-post-render PROFILE` for Helm 4 (arguments from --post-renderer-args).
# Helm 4 discards a plugin's stderr, so keep it, and the input, where the user can find them:
# on failure Helm only says `plugin "baogen" exited with error`.
dir="${BAOGEN_HELM_LOG_DIR:-${TMPDIR:-/tmp}/baogen-helm-$(id -u)}"
mkdir -p "$dir" || exit 2
cat >"$dir/input.yaml" || exit 2
if "${BAOGEN:-baogen}" helm-post-render "$@" <"$dir/input.yaml" 2>"$dir/error.log"; then
  exit 0
fi
status=$?
{
  echo "re-run with: ${BAOGEN:-baogen} helm-post-render $* < $dir/input.yaml"
} >>"$dir/error.log"
cat "$dir/error.log" >&2
exit "$status"
