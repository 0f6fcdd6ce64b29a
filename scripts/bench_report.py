#!/usr/bin/env python3
"""Turn scripts/bench's raw measurements into one table; `--write` records it in BENCHMARKS.md.

Usage: bench_report.py WORKDIR SCALE_TXT MEMORY_TXT BINARY [--write]
WORKDIR holds one hyperfine export per round (process-N.json); each command's runs from all
rounds are pooled before taking the median.
"""
import datetime, glob, json, os, platform, re, statistics, sys

work, scale_txt, memory_txt, binary = sys.argv[1:5]
write = "--write" in sys.argv[5:]

times, rounds = {}, 0
for path in sorted(glob.glob(os.path.join(work, "process-*.json"))):
    rounds += 1
    for r in json.load(open(path))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
runs = len(times["floor"])
floor = med["floor"]
kustomize = med["kubectl-kustomize"]
scale_text = open(scale_txt).read()
phases = {m.group(1): float(m.group(2)) for m in re.finditer(r"phase (\S+) ms=([\d.]+)", scale_text)}
scale = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"scale roles=(\d+) median_ms=([\d.]+)", scale_text)}
code, maxrss_kib = open(memory_txt).read().split()
size_mib = os.path.getsize(binary) / 2**20

rows = []
def row(what, value, target, ok):
    rows.append((what, value, target, "met" if ok else "MISSED"))

row("trivial Rust binary (floor)", f"{floor:.2f} ms", "—", True)
row("baogen start-up only (`baogen --version`)", f"{med['startup']:.2f} ms = {med['startup'] / floor:.1f}× floor", "(reference)", True)
for p in ["active", "all-node", "demo"]:
    m = med[f"render-{p}"]
    row(f"render {p} (whole process, new tree in a tmpfs temporary directory)",
        f"{m:.2f} ms = {m / floor:.1f}× floor, {kustomize / m:.0f}× faster than kustomize",
        "≤ 3× floor; ≥ 20× faster than kustomize", m <= 3 * floor and kustomize >= 20 * m)
c = med["check-all"]
row("check of all 3 shipped profiles", f"{c:.2f} ms = {c / floor:.1f}× floor", "≤ 5× floor", c <= 5 * floor)
row("kubectl kustomize on baogen's kubernetes/", f"{kustomize:.2f} ms", "(comparison)", True)
d, cp = med["render-active-disk"], med["copy-tree-disk"]
row("render active into a temporary directory on this disk", f"{d:.2f} ms = {d / floor:.1f}× floor", "(reference)", True)
row("`cp -r` of the same tree on this disk (file-system floor)", f"{cp:.2f} ms = {cp / floor:.1f}× floor", "(reference)", True)
for n in sorted(scale):
    row(f"in-process render, {n:,} roles", f"{scale[n]:.2f} ms", "1,000 roles < 50 ms" if n == 1000 else "—",
        scale[n] < 50 if n == 1000 else True)
growth = re.search(r"scale growth_10000_1000=([\d.]+)", scale_text)
ratio = float(growth.group(1)) if growth else scale[10000] / scale[1000]
row("growth 10,000 / 1,000 roles (median of per-round ratios)", f"{ratio:.1f}×", "< 12 (linear)", ratio < 12)
row("peak memory, render of 10,000 roles", f"{int(maxrss_kib) / 1024:.0f} MiB (exit {code})", "< 200 MiB", int(maxrss_kib) < 200 * 1024 and code == "0")
row("release binary size", f"{size_mib:.1f} MiB", "(reported)", True)
live = dict(kv.split("=") for kv in open(os.path.join(work, "live.txt")).read().split()[1:])
apply_s, bao_s, plan_s = float(live["apply_s"]), float(live["bao_s"]), float(live["plan_s"])
row("`baogen apply` of 1,000 roles to a fresh real OpenBao (raft, 127.0.0.1)",
    f"{apply_s:.2f} s, {bao_s / apply_s:.0f}× faster than one `bao` command per policy and role ({bao_s:.0f} s for {live['commands']}, timed on {live['sampled']} and scaled)",
    "≥ 20× faster", bao_s >= 20 * apply_s)
row("`baogen plan` of 1,000 roles with nothing to change", f"{plan_s:.2f} s", "≤ 1 s", plan_s <= 1.0)
boot = dict(kv.split("=") for kv in open(os.path.join(work, "selfinit.txt")).read().split()[1:])
boot_s = float(boot["boot_s"])
row("demo from first start to a configured cluster (3 nodes, self-init, no init or unseal step)",
    f"{boot_s:.2f} s (median of {boot['runs']}: {boot['all']} s)", "≤ 5 s", boot_s <= 5.0)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
machine = f"{os.cpu_count()} cores, {cpu}, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.system()} {platform.release()}"
lines = ["| measurement | result | target | |", "|---|---|---|---|"] + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
lines += ["", "Where one render's time goes (in-process, first use in a fresh process, then again):", "",
          "| phase | ms |", "|---|---|"] + [f"| {k} | {v:.2f} |" for k, v in phases.items()]
worst = max(med[f"render-{p}"] for p in ["active", "all-node", "demo"])
why = []
startup = med["startup"] - floor
if worst > 3 * floor:
    why.append(f"- render misses 3× the floor by {worst - 3 * floor:.2f} ms (worst profile {worst:.2f} ms vs {3 * floor:.2f} ms).")
if c > 5 * floor:
    why.append(f"- check misses 5× the floor by {c - 5 * floor:.2f} ms ({c:.2f} ms vs {5 * floor:.2f} ms).")
if kustomize < 20 * worst:
    why.append(f"- render is {kustomize / worst:.0f}× faster than kubectl kustomize, short of 20× by {worst - kustomize / 20:.2f} ms per render.")
if why:
    why.append(f"  Why: starting this binary costs {startup:.2f} ms more than the floor before any work (page faults of "
               "its larger code and the argument parser); the rest is first use of the TOML parser and the YAML "
               "writer (the phase table: serde-saphyr's per-character checks are most of a render), and the file "
               "system calls of a new tree.")
if ratio >= 12:
    l3 = "/sys/devices/system/cpu/cpu0/cache/index3/size"
    l3 = open(l3).read().strip() if os.path.exists(l3) else ""
    l3 = f"{int(l3[:-1]) // 1024} MiB" if l3.endswith("K") else (l3 or "its")
    why.append(f"- growth 10,000/1,000 roles is {ratio:.1f}×, over 12 by {ratio - 12:.1f}. Why: no step compares a role "
               "with the others (grants and policies are gathered in one pass, without a search per grant), but 10,000 "
               f"roles' trees (~50 MiB; the TOML tree alone is ~25 MiB) no longer fit this machine's {l3} L3 cache, so "
               "each walk over them waits on memory, and glibc's allocator does more upkeep per call on the larger "
               "heap. mimalloc measured about 11.4× here but reads /proc/sys/vm/overcommit_memory at start, a file "
               "beyond the profile (tests/fast/startup.rs).")
if boot_s > 5.0:
    why.append(f"- the zero-touch boot takes {boot_s:.2f} s, over 5 s by {boot_s - 5.0:.2f} s. Why: OpenBao 2.7.2 "
               "retries a joining node's auto-unseal every 5 s from process start, so no standby can be unsealed "
               "before 5 s (see the note on issue 18 above).")
if why:
    lines += ["", "Targets missed, by how much and why:", ""] + why
else:
    lines += ["", "Every target is met."]
table = "\n".join(lines)
summary = (f"Whole-process figures are medians of {runs} runs per command, {rounds} rounds of hyperfine "
           f"(10 warm-ups each) over all commands in turn.")
print(f"machine: {machine}\n{summary}\n")
print(table)

if write:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = open("BENCHMARKS.md").read() if os.path.exists("BENCHMARKS.md") else ""
    head, _, _ = text.partition("<!-- latest -->")
    if not head:
        head = "# Benchmarks\n\n"
    body = f"<!-- latest -->\n## Latest run\n\n{now}, `scripts/bench --write`, on {machine}.\n{summary}\n\n{table}\n"
    open("BENCHMARKS.md", "w").write(head + body)
    print("\nrecorded in BENCHMARKS.md")
