#!/usr/bin/env python3
"""The live benchmark of issue 17: a real OpenBao (raft storage, 127.0.0.1) and 1,000 roles.

Usage: bench_live.py BAOGEN BAO PROFILE OUT_TXT
Times, on one fresh server: `baogen apply` of the profile; the same writes as one `bao`
command per policy and per role (what the generated apply.sh did), timed on the first SAMPLE
of them and scaled to all (each `bao` start costs the same, so the scaling is linear and keeps
the run short); `baogen plan` with nothing to change (median of 5). Prints `live apply_s=… bao_s=… plan_s=…` to OUT_TXT. The server and its
temporary directory are removed at the end, also on failure.
"""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

baogen, bao, profile, out_txt = sys.argv[1:5]
SAMPLE = 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(addr, method, path, token=None, body=None):
    req = urllib.request.Request(f"{addr}/v1/{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("X-Vault-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else {}


work = tempfile.mkdtemp(prefix="baogen-bench-live-")
server = None
try:
    port = free_port()
    os.makedirs(f"{work}/raft")
    with open(f"{work}/server.hcl", "w") as f:
        f.write(f'storage "raft" {{\n  path = "{work}/raft"\n  node_id = "n1"\n}}\n'
                f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n'
                f'api_addr = "http://127.0.0.1:{port}"\ncluster_addr = "https://127.0.0.1:{port + 1}"\n')
    log = open(f"{work}/server.log", "w")
    server = subprocess.Popen([bao, "server", f"-config={work}/server.hcl"], stdout=log, stderr=log,
                              stdin=subprocess.DEVNULL)
    addr = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    init = call(addr, "PUT", "sys/init", body={"secret_shares": 1, "secret_threshold": 1})
    token = init["root_token"]
    call(addr, "PUT", "sys/unseal", body={"key": init["keys_base64"][0]})
    for _ in range(600):
        try:
            call(addr, "GET", "sys/health")
            break
        except Exception:
            time.sleep(0.1)
    env = dict(os.environ, BAO_ADDR=addr, BAO_TOKEN=token)

    started = time.monotonic()
    subprocess.run([baogen, "apply", profile, "--yes"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    apply_s = time.monotonic() - started

    # The same writes as one bao command each, from the rendered files, as apply.sh ran them.
    rendered = f"{work}/render"
    subprocess.run([baogen, "render", profile, "--out", rendered], check=True, stderr=subprocess.DEVNULL)
    commands = []
    for name in sorted(os.listdir(f"{rendered}/openbao/policies")):
        commands.append([bao, "policy", "write", name[:-4], f"{rendered}/openbao/policies/{name}"])
    commands.append([bao, "write", "kubernetes/config", f"@{rendered}/openbao/kubernetes-secrets/config.json"])
    for name in sorted(os.listdir(f"{rendered}/openbao/kubernetes-secrets/roles")):
        commands.append([bao, "write", f"kubernetes/roles/{name[:-5]}",
                         f"@{rendered}/openbao/kubernetes-secrets/roles/{name}"])
    sample = commands[:SAMPLE]
    started = time.monotonic()
    for c in sample:
        subprocess.run(c, env=env, check=True, stdout=subprocess.DEVNULL)
    bao_s = (time.monotonic() - started) * len(commands) / len(sample)

    plans = []
    for _ in range(5):
        started = time.monotonic()
        r = subprocess.run([baogen, "plan", profile], env=env, stdout=subprocess.DEVNULL)
        plans.append(time.monotonic() - started)
        assert r.returncode == 0, "plan after apply found changes"
    with open(out_txt, "w") as f:
        f.write(f"live apply_s={apply_s:.3f} bao_s={bao_s:.3f} plan_s={statistics.median(plans):.3f} commands={len(commands)} sampled={min(SAMPLE, len(commands))}\n")
finally:
    if server:
        server.kill()
        server.wait()
    shutil.rmtree(work, ignore_errors=True)
