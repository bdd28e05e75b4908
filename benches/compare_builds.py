#!/usr/bin/env python3
"""Before/after: the workloads bench's interleaved best-of mode, base and new binaries run
alternately (ABAB...), best kernel and hand time per workload and size over all runs."""
import subprocess, sys, re, collections
base, new = sys.argv[1], sys.argv[2]
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
sizes = [("1e3", 400), ("1e5", 200), ("1e7", 20)]
best = collections.defaultdict(lambda: float("inf"))
for rep in range(reps):
    for tag, exe in (("base", base), ("new", new)) if rep % 2 == 0 else (("new", new), ("base", base)):
        for n, rounds in sizes:
            env = {"WORKLOADS_INTERLEAVED": f"{n},{rounds}", "PATH": "/usr/bin:/bin"}
            out = subprocess.run(["taskset", "-c", "1", exe, "--bench"], env=env, capture_output=True, text=True).stdout
            for line in out.splitlines():
                m = re.match(r"(\w+)\s+kernel ([\d.]+) hand ([\d.]+) eager ([\d.]+)", line)
                if m:
                    w = m.group(1)
                    for i, form in enumerate(("kernel", "hand"), start=2):
                        key = (tag, n, w, form)
                        best[key] = min(best[key], float(m.group(i)))
print(f"{'workload':<24} {'n':>4} {'base kernel':>12} {'new kernel':>11} {'new/base':>9} {'hand new/base':>14}")
for n, _ in sizes:
    for w in sorted({k[2] for k in best if k[1] == n}):
        b, a = best[("base", n, w, "kernel")], best[("new", n, w, "kernel")]
        hb, ha = best[("base", n, w, "hand")], best[("new", n, w, "hand")]
        print(f"{w:<24} {n:>4} {b:12.4f} {a:11.4f} {a/b:9.3f} {ha/hb:14.3f}")
