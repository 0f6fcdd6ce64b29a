#!/usr/bin/env python3
"""The zero-touch benchmark of issue 18: the shipped demo's three generated node configs (the
e2e loopback variant, tests/e2e/profiles/demo.toml, its placeholder ports given free ones and
/openbao/init pointed at a temporary directory, as tests/real/e2e/demo.rs does) start from
empty storage with no `operator init` and no unseal. Timed from starting the three servers to a
fully configured cluster: node0 active, node1 and node2 unsealed standbys, the admin able to log
in. Median of RUNS fresh clusters.

Usage: bench_selfinit.py BAOGEN BAO OUT_TXT   (prints `selfinit boot_s=… runs=…` to OUT_TXT)
Every server and temporary directory is removed at the end, also on failure.
"""
import json, os, re, secrets, shutil, socket, statistics, string, subprocess, sys, tempfile, time
import urllib.error, urllib.request

baogen, bao, out_txt = sys.argv[1:4]
RUNS = int(os.environ.get("BENCH_SELFINIT_RUNS", "3"))
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url, body=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                 method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def one_run():
    work = tempfile.mkdtemp(prefix="baogen-bench-selfinit-")
    servers = []
    try:
        text = open(os.path.join(root, "tests/e2e/profiles/demo.toml")).read()
        ports = {}
        text = re.sub(r"\b18\d\d\d\b", lambda m: str(ports.setdefault(m.group(0), free_port())), text)
        profile = os.path.join(work, "demo.toml")
        open(profile, "w").write(text)
        subprocess.run([baogen, "render", profile, "--out", f"{work}/render"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        init = os.path.join(work, "init")
        os.makedirs(init)
        # What the stack's init step makes: the 32-byte seal key and the admin's password.
        open(f"{init}/unseal.key", "wb").write(secrets.token_bytes(32))
        password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        open(f"{init}/admin-password", "w").write(password)
        nodes = []
        for name, api in [("openbao-node0", "18410"), ("openbao-node1", "18420"), ("openbao-node2", "18430")]:
            os.makedirs(f"{work}/{name}/raft")
            config = open(f"{work}/render/compose/{name}.hcl").read().replace("/openbao/init/", f"{init}/")
            open(f"{work}/{name}.hcl", "w").write(config)
            nodes.append((name, f"http://127.0.0.1:{ports[api]}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
        start = time.monotonic()
        for name, _ in nodes:
            log = open(f"{work}/{name}.log", "w")
            servers.append(subprocess.Popen([bao, "server", f"-config={work}/{name}.hcl"], cwd=work, env=env,
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL))
        want = [200, 429, 429]
        while True:
            if time.monotonic() - start > 60:
                sys.exit("bench_selfinit: the cluster did not come up within 60 s")
            if [status(f"{api}/v1/sys/health") for _, api in nodes] == want and \
                    status(f"{nodes[0][1]}/v1/auth/userpass/login/admin", {"password": password}) == 200:
                return time.monotonic() - start
            time.sleep(0.02)
    finally:
        for s in servers:
            s.kill()
            s.wait()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


times = [one_run() for _ in range(RUNS)]
with open(out_txt, "w") as f:
    f.write(f"selfinit boot_s={statistics.median(times):.2f} runs={RUNS} all={','.join(f'{t:.2f}' for t in times)}\n")
print(open(out_txt).read(), end="")
