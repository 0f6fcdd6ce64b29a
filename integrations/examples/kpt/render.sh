kpt fn render openbao-pkg --allow-exec
