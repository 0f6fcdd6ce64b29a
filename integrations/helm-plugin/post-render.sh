#!/bin/sh
# Runs `baogen helm-post-render PROFILE` for Helm 4 (arguments from --post-renderer-args).
# The rendered manifests (the chart's Secrets included) go straight from Helm to baogen through
# the pipe and never touch the disk. Helm 4 discards a plugin's stderr and only says
# `plugin "baogen" exited with error`, so on failure the error text alone is also kept in
# ${BAOGEN_HELM_LOG_DIR:-${TMPDIR:-/tmp}/baogen-helm-UID}/error.log, in a directory only the
# user can read.
umask 077
err=$(mktemp "${TMPDIR:-/tmp}/baogen-helm-err.XXXXXX") || exit 2
trap 'rm -f "$err"' EXIT HUP INT TERM
"${BAOGEN:-baogen}" helm-post-render "$@" 2>"$err" && exit 0
status=$?
log_dir="${BAOGEN_HELM_LOG_DIR:-${TMPDIR:-/tmp}/baogen-helm-$(id -u)}"
# Only a directory of our own, never one someone else prepared (or a link to one).
if mkdir -p -m 0700 "$log_dir" 2>/dev/null && [ -d "$log_dir" ] && [ ! -L "$log_dir" ] && [ -O "$log_dir" ]; then
  chmod 0700 "$log_dir"
  {
    cat "$err"
    echo "baogen helm-post-render $* failed (exit $status); run the same helm command with --post-renderer-args as above to reproduce."
  } >"$log_dir/error.log"
fi
cat "$err" >&2
exit "$status"
