#!/usr/bin/env bash
# purge-bench.sh — fleet purge propagation: three gateway edges (us-east, eu-west, ap-south) and
# one redis-server on 127.0.0.1, an nginx origin. See loadtest/README.md.
#
#   loadtest/purge-bench.sh
#
# 1. Latency: PURGES global purges, one after another, through edge-a's admin API, each waiting
#    for all three acknowledgements: p50/p90/p99/max of the propagation time the API reports
#    (publish to last acknowledgement) and of the whole admin call as the caller sees it.
# 2. Storm: STORM purges of distinct URLs sent back to back without waiting, then one that waits:
#    time until every edge applied all of them, while wrk measures edge-b serving cache hits
#    (latency before vs during the storm).
#
# Environment (all optional): GATEWAY_BIN (default <repo>/.build/release/gateway), PURGES (1000),
# STORM (10000). Needs redis-server, nginx, wrk, python3.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
PURGES=${PURGES:-1000}
STORM=${STORM:-10000}
for tool in redis-server nginx wrk python3; do
    command -v "$tool" >/dev/null || { echo "purge-bench: '$tool' not found (make deps-bench)" >&2; exit 1; }
done
[[ -x $GATEWAY_BIN ]] || { echo "purge-bench: no gateway at $GATEWAY_BIN (make release)" >&2; exit 1; }

NAME=purge-bench
# shellcheck source=processes.sh
source "$HERE/processes.sh"

head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/body"
REDIS_PORT=$(free_port); ORIGIN_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/origin"
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/origin/pid; error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http { access_log off; server_tokens off; keepalive_requests 100000000;
  client_body_temp_path $WORK/origin/cb; proxy_temp_path $WORK/origin/px; fastcgi_temp_path $WORK/origin/fc;
  uwsgi_temp_path $WORK/origin/uw; scgi_temp_path $WORK/origin/sc;
  server { listen 127.0.0.1:$ORIGIN_PORT; location / { root $WORK; try_files /body =404; default_type text/plain;
    add_header Cache-Control "max-age=3600"; } } }
CONF
nginx -c "$WORK/origin/nginx.conf" -p "$WORK/origin" & PIDS+=($!)

declare -A PORT ADMIN
for edge in a:us-east b:eu-west c:ap-south; do
    name=edge-${edge%%:*}; region=${edge#*:}
    PORT[$name]=$(free_port); ADMIN[$name]=$(free_port)
    mkdir -p "$WORK/$name"
    cat >"$WORK/$name/gateway.yaml" <<CONF
node: { id: $name, region: $region }
listeners: [{ name: public, address: 127.0.0.1:${PORT[$name]} }]
admin: { address: 127.0.0.1:${ADMIN[$name]} }
redis: { addresses: [127.0.0.1:$REDIS_PORT] }
upstreams: { origin: { endpoints: [{ address: 127.0.0.1:$ORIGIN_PORT }] } }
routes: [{ name: cached, match: { path_prefix: / }, upstream: origin, cache: {} }]
logging: { level: warning }
CONF
    "$GATEWAY_BIN" run --config "$WORK/$name/gateway.yaml" 2>"$WORK/$name/stderr.log" & PIDS+=($!)
done
for port in "$REDIS_PORT" "$ORIGIN_PORT" "${PORT[@]}" "${ADMIN[@]}"; do
    wait_port "$port" || { echo "port $port never opened" >&2; exit 1; }
done

python3 - "${ADMIN[edge-a]}" "${PORT[edge-b]}" "$PURGES" "$STORM" "$WORK" <<'PY'
import http.client, json, signal, subprocess, sys, time

admin_port, edge_b, purges, storm, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
admin = http.client.HTTPConnection("127.0.0.1", admin_port)

def purge(body):
    admin.request("POST", "/admin/cache/purge", json.dumps(body), {"Content-Type": "application/json"})
    response = admin.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit("purge-bench: purge answered %d: %s" % (response.status, data[:300]))
    return json.loads(data)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]

# Wait until all three edges are reading the purge log (the first purge says who is expected).
for _ in range(100):
    if len(purge({"url": "http://localhost/warmup", "scope": "global", "timeout_ms": 2000}).get("acknowledged", [])) == 3:
        break
    time.sleep(0.1)
else:
    sys.exit("purge-bench: three edges never acknowledged")

propagation, call = [], []
incomplete = 0
for i in range(purges):
    started = time.perf_counter()
    result = purge({"url": "http://localhost/bench", "scope": "global", "timeout_ms": 2000})
    call.append((time.perf_counter() - started) * 1000)
    if not result.get("complete") or len(result.get("acknowledged", [])) != 3:
        incomplete += 1
        continue
    propagation.append(float(result["propagation_ms"]))
print("latency: %d global purges, 3 edges, each waiting for every acknowledgement (%d incomplete)" % (purges, incomplete))
for label, values in (("propagation (API)", propagation), ("admin call round trip", call)):
    print("  %-22s p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %7.3f ms" %
          (label, pct(values, 50), pct(values, 90), pct(values, 99), max(values)))
p99 = pct(propagation, 99)
print("  goal p99 < 50 ms: %s (p99 %.3f ms)" % ("PASS" if p99 < 50 and incomplete == 0 else "FAIL", p99))

def parse_wrk(out):
    def value(label):
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == label:
                v = parts[1]
                if v.endswith("us"): return float(v[:-2]) / 1000
                if v.endswith("ms"): return float(v[:-2])
                if v.endswith("s"): return float(v[:-1]) * 1000
        return float("nan")
    rps = next((float(l.split()[1]) for l in out.splitlines() if l.startswith("Requests/sec")), 0.0)
    return rps, value("50%"), value("99%")

def wrk_command(duration):
    return ["wrk", "-t1", "-c8", "-d%s" % duration, "--latency", "http://127.0.0.1:%d/hot" % edge_b]

subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/hot" % edge_b])
before = parse_wrk(subprocess.run(wrk_command("5s"), capture_output=True, text=True).stdout)
# wrk prints its statistics when interrupted: it runs for exactly as long as the storm does.
load = subprocess.Popen(wrk_command("3600s"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(0.5)
started = time.perf_counter()
for i in range(storm):
    purge({"url": "http://localhost/storm/%d" % i, "scope": "global", "wait": False})
published = time.perf_counter() - started
last = purge({"url": "http://localhost/storm/last", "scope": "global", "timeout_ms": 60000})
done = time.perf_counter() - started
load.send_signal(signal.SIGINT)
during = parse_wrk(load.communicate()[0])
print("storm: %d distinct URLs published in %.2f s (%.0f purges/s); every edge had applied all %.2f s after the first (complete: %s)" %
      (storm, published, storm / published, done, last.get("complete")))
print("  edge-b serving cache hits before: %8.0f req/s, p50 %.3f ms, p99 %.3f ms" % before)
print("  edge-b serving cache hits during: %8.0f req/s, p50 %.3f ms, p99 %.3f ms" % during)
PY
