#!/usr/bin/env python3
"""Helpers for proxy-bench.sh (python3 standard library only).

Subcommands:
  port                          print a free TCP port on 127.0.0.1 (asked from the OS)
  render TEMPLATE OUT K=V...    copy TEMPLATE to OUT replacing @K@ by V (V may be @file:PATH)
  snap PID                      print "<utime+stime ticks> <VmRSS KiB> <Pss KiB> <pids>" summed over
                                PID and all its descendants (from /proc)
  parse-wrk FILE                print "rps p50_ms p99_ms requests duration_s sock_errors non2xx"
  summary CSV                   print the table of medians, ratios and goal checks
"""
import csv
import os
import re
import socket
import statistics
import sys


def cmd_port(_args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_render(args):
    template, out, *pairs = args
    with open(template) as f:
        text = f.read()
    for pair in pairs:
        key, _, value = pair.partition("=")
        if value.startswith("@file:"):
            with open(value[len("@file:"):]) as f:
                value = f.read()
        text = text.replace("@" + key + "@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        sys.exit("render: unsubstituted placeholders in %s: %s" % (template, sorted(set(left))))
    with open(out, "w") as f:
        f.write(text)


def _proc_table():
    """pid -> (ppid, ticks) for every readable process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        # comm (field 2) may contain spaces/parens: split after the last ')'.
        rest = data[data.rindex(")") + 2:].split()
        # rest[0] is field 3 (state); field N is rest[N-3].
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12])  # utime (14) + stime (15)
        table[int(name)] = (ppid, ticks)
    return table


def _rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmd_snap(args):
    root = int(args[0])
    table = _proc_table()
    if root not in table:
        sys.exit("snap: process %d is gone" % root)
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    ticks = sum(table[p][1] for p in pids)
    rss = sum(_rss_kib(p) for p in pids)
    pss = sum(_pss_kib(p) for p in pids)
    print(ticks, rss, pss, ",".join(str(p) for p in sorted(pids)))


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError("bad latency %r" % text)
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def cmd_parse_wrk(args):
    with open(args[0]) as f:
        out = f.read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"^\s+(\d+) requests in ([0-9.]+)(us|ms|s|m|h)", out, re.M)
    if not (rps and p50 and p99 and total):
        sys.exit("parse-wrk: could not parse %s" % args[0])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock_errors = sum(int(x) for x in sock.groups()) if sock else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    duration_s = _to_ms(total.group(2) + total.group(3)) / 1000.0
    print(rps.group(1), "%.3f" % _to_ms(p50.group(1)), "%.3f" % _to_ms(p99.group(1)),
          total.group(1), "%.2f" % duration_s, sock_errors, non2xx.group(1) if non2xx else 0)


def _fmt(x, digits):
    return "-" if x is None else ("%.*f" % (digits, x))


def cmd_summary(args):
    path = args[0]
    order = args[1].split() if len(args) > 1 else []
    rows = list(csv.DictReader(open(path)))
    by_target = {}
    for r in rows:
        by_target.setdefault(r["target"], []).append(r)
    names = [t for t in order if t in by_target] + [t for t in by_target if t not in order]

    cols = [("rps", "RPS", 0), ("p50_ms", "p50 ms", 3), ("p99_ms", "p99 ms", 3),
            ("rss_mib", "RSS MiB", 1), ("pss_mib", "PSS MiB", 1), ("cpu_us_per_req", "CPU us/req", 2)]
    med = {}
    for t in names:
        med[t] = {}
        for key, _, _ in cols:
            vals = [float(r[key]) for r in by_target[t] if r.get(key) not in (None, "", "nan")]
            med[t][key] = statistics.median(vals) if vals else None

    labels = {"origin": "origin (direct)", "nginx": "nginx proxy", "gateway": "gateway"}
    header = "%-16s %4s " % ("target", "runs") + " ".join("%11s" % c[1] for c in cols)
    print("Medians over runs (%s)" % os.path.basename(path))
    print(header)
    print("-" * len(header))
    for t in names:
        print("%-16s %4d " % (labels.get(t, t), len(by_target[t])) +
              " ".join("%11s" % _fmt(med[t][k], d) for k, _, d in cols))

    g, n = med.get("gateway"), med.get("nginx")
    rl = med.get("gateway-rl")
    if g and rl and g.get("rps") and rl.get("rps") is not None:
        print()
        print("gateway-rl / gateway (one rate limit that never trips vs none):  RPS x%s   p99 %+.3f ms   CPU/req x%s" % (
            _fmt(rl["rps"] / g["rps"], 2), (rl["p99_ms"] or 0) - (g["p99_ms"] or 0),
            _fmt((rl["cpu_us_per_req"] or 0) / g["cpu_us_per_req"], 2) if g.get("cpu_us_per_req") else "n/a"))
    auth = med.get("gateway-auth")
    if g and auth and g.get("rps") and auth.get("rps") is not None:
        print("gateway-auth / gateway (RS256 JWT required vs open route):  RPS x%s   p99 %+.3f ms   CPU/req x%s" % (
            _fmt(auth["rps"] / g["rps"], 2), (auth["p99_ms"] or 0) - (g["p99_ms"] or 0),
            _fmt((auth["cpu_us_per_req"] or 0) / g["cpu_us_per_req"], 2) if g.get("cpu_us_per_req") else "n/a"))
    print()
    if not (g and n):
        print("gateway / nginx ratios: n/a (need both the gateway and nginx targets)")
        return

    def ratio(key):
        a, b = g.get(key), n.get(key)
        return a / b if a is not None and b else None

    r_rps, r_p99, r_cpu = ratio("rps"), ratio("p99_ms"), ratio("cpu_us_per_req")
    r_p50, r_rss = ratio("p50_ms"), ratio("rss_mib")
    print("gateway / nginx proxy:  RPS x%s   p50 x%s   p99 x%s   RSS x%s   CPU/req x%s" % (
        _fmt(r_rps, 2), _fmt(r_p50, 2), _fmt(r_p99, 2), _fmt(r_rss, 2), _fmt(r_cpu, 2)))
    print()
    print("Goal check (informational):")
    goals = [("CPU/req <= 1.25 x nginx", r_cpu, lambda r: r <= 1.25),
             ("RPS     >= 0.80 x nginx", r_rps, lambda r: r >= 0.80),
             ("p99     <= 1.50 x nginx", r_p99, lambda r: r <= 1.50)]
    for name, r, ok in goals:
        verdict = "n/a " if r is None else ("PASS" if ok(r) else "FAIL")
        print("  %-26s %s  (x%s)" % (name, verdict, _fmt(r, 2)))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1].replace("-", "_")
    fn = globals().get("cmd_" + cmd)
    if fn is None:
        sys.exit(__doc__)
    fn(sys.argv[2:])


if __name__ == "__main__":
    main()
