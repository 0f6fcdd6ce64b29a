cd openbao-pkg && kpt fn eval . --exec "baogen krm" --fn-config baogen.yaml
