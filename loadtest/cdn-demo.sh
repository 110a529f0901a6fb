#!/usr/bin/env bash
# cdn-demo.sh — a small CDN on 127.0.0.1: an origin, one redis-server, three edges in three
# regions (us-east, eu-west, ap-south) and a director that sends each client to its region's edge.
#
#   loadtest/cdn-demo.sh            # walk through it, then keep running until Ctrl-C
#   loadtest/cdn-demo.sh --check    # walk through it, check every step, exit (used by the tests)
#
# Clients "in" a region are clients from its loopback network: the director's geo table maps
# 127.0.0.0/24 to us-east, 127.0.1.0/24 to eu-west and 127.0.2.0/24 to ap-south, and curl
# --interface 127.0.1.10 connects from such an address (all of 127/8 is local on Linux).
# Latency between "regions" is not simulated (that needs network namespaces and tc netem, root).
#
# Environment: GATEWAY_BIN (default: the newer of the release and debug builds).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CHECK=false
[[ ${1:-} == --check ]] && CHECK=true
if [[ -z ${GATEWAY_BIN:-} ]]; then
    # The newer of the release and debug builds: an old release binary would lack what changed.
    GATEWAY_BIN=$(ls -t "$REPO/.build/release/gateway" "$REPO/.build/debug/gateway" 2>/dev/null | head -1 || true)
fi
for tool in redis-server python3 curl; do
    command -v "$tool" >/dev/null || { echo "cdn-demo: '$tool' not found (make deps)" >&2; exit 1; }
done
[[ -x $GATEWAY_BIN ]] || { echo "cdn-demo: no gateway binary (swift build)" >&2; exit 1; }

NAME=cdn-demo
# shellcheck source=processes.sh
source "$HERE/processes.sh"
failures=0
check() {  # check DESCRIPTION ACTUAL EXPECTED-SUBSTRING
    local actual
    actual=$(tr -d ' \n' <<<"$2")
    if [[ $actual == *"$3"* ]]; then echo "  ok   $1"; else echo "  FAIL $1: expected '$3' in '$2'"; failures=$((failures + 1)); fi
}

REDIS_PORT=$(free_port); ORIGIN_PORT=$(free_port); DIRECTOR_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
# The origin: the demo site, served by python's http.server (no Cache-Control: edges use default_ttl).
python3 -m http.server "$ORIGIN_PORT" --bind 127.0.0.1 --directory "$REPO/conf/demo-site" >"$WORK/origin.log" 2>&1 &
PIDS+=($!)

declare -A PORT ADMIN
for region in us-east eu-west ap-south; do
    name=edge-$region
    PORT[$region]=$(free_port); ADMIN[$region]=$(free_port)
    cat >"$WORK/$name.yaml" <<CONF
node: { id: $name, region: $region }
listeners: [{ name: public, address: 127.0.0.1:${PORT[$region]} }]
admin: { address: 127.0.0.1:${ADMIN[$region]} }
redis: { addresses: [127.0.0.1:$REDIS_PORT] }
upstreams: { origin: { endpoints: [{ address: 127.0.0.1:$ORIGIN_PORT }] } }
routes: [{ name: site, match: { path_prefix: / }, upstream: origin, cache: { default_ttl: 5m } }]
logging: { level: warning }
CONF
    "$GATEWAY_BIN" run --config "$WORK/$name.yaml" 2>"$WORK/$name.log" & PIDS+=($!)
done
cat >"$WORK/director.yaml" <<CONF
node: { id: director, region: us-east }
listeners: [{ name: public, address: 127.0.0.1:$DIRECTOR_PORT }]
upstreams:
  edge-us-east: { endpoints: [{ address: 127.0.0.1:${PORT[us-east]} }] }
  edge-eu-west: { endpoints: [{ address: 127.0.0.1:${PORT[eu-west]} }] }
  edge-ap-south: { endpoints: [{ address: 127.0.0.1:${PORT[ap-south]} }] }
geo:
  default: us-east
  regions: { us-east: [127.0.0.0/24], eu-west: [127.0.1.0/24], ap-south: [127.0.2.0/24] }
routes:
  - name: director
    match: { path_prefix: / }
    upstream_by_region: { us-east: edge-us-east, eu-west: edge-eu-west, ap-south: edge-ap-south }
logging: { level: warning, access_log: { path: $WORK/director-access.log } }
CONF
"$GATEWAY_BIN" run --config "$WORK/director.yaml" 2>"$WORK/director.log" & PIDS+=($!)
for port in "$REDIS_PORT" "$ORIGIN_PORT" "$DIRECTOR_PORT" "${PORT[@]}" "${ADMIN[@]}"; do
    wait_port "$port" || { echo "cdn-demo: port $port never opened" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
# The edges heartbeat once they read the purge log; wait for all three before purging.
for _ in $(seq 100); do
    [[ $(python3 - "$REDIS_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*2\r\n$4\r\nHLEN\r\n$10\r\n{gw}:nodes\r\n")
print(s.recv(64).decode().strip().lstrip(":"))
PY
) == 3 ]] && break
    sleep 0.1
done

fetch() {  # fetch SOURCE-ADDRESS PATH → "served-by|x-cache"
    curl -s -o /dev/null --interface "$1" -D - "http://127.0.0.1:$DIRECTOR_PORT$2" \
        | tr -d '\r' | awk -F': ' 'tolower($1)=="x-served-by"{s=$2} tolower($1)=="x-cache"{c=$2} END{print s "|" c}'
}
admin() { curl -s -X "$1" "http://127.0.0.1:${ADMIN[us-east]}$2" ${3:+-d "$3"}; }

echo "== the director sends each client to its region's edge (X-Served-By), each edge caches"
for source in 127.0.0.10 127.0.1.10 127.0.2.10; do
    first=$(fetch "$source" /index.html); second=$(fetch "$source" /index.html)
    echo "  from $source: first $first, then $second"
done
check "us-east client → edge-us-east, cached" "$(fetch 127.0.0.10 /index.html)" "edge-us-east|HIT"
check "eu-west client → edge-eu-west" "$(fetch 127.0.1.10 /index.html)" "edge-eu-west|HIT"
check "ap-south client → edge-ap-south" "$(fetch 127.0.2.10 /index.html)" "edge-ap-south|HIT"
check "the director logs the region" "$(cat "$WORK/director-access.log" 2>/dev/null || true)$(sleep 1.2; cat "$WORK/director-access.log")" '"region":"eu-west"'

echo "== one purge through edge-us-east's admin API reaches every edge"
# The edges store what clients asked for: the director passes the Host on (127.0.0.1:PORT).
purge=$(admin POST /admin/cache/purge "{\"url\": \"http://127.0.0.1:$DIRECTOR_PORT/index.html\", \"scope\": \"global\"}")
echo "  $(tr -d ' \n' <<<"$purge")"
check "all three edges acknowledged" "$purge" '"complete":true'
for source in 127.0.0.10 127.0.1.10 127.0.2.10; do
    check "purged on the edge of $source" "$(fetch "$source" /index.html)" "|MISS"
done

echo "== fleet-wide cache statistics, from any edge"
sleep 1.2  # one heartbeat: each edge publishes its figures with it
stats=$(admin GET '/admin/cache/stats?scope=global&top=3')
echo "  $(tr -d ' \n' <<<"$stats" | cut -c1-400)…"
check "every edge reports" "$stats" '"nodes_reporting":3'

if $CHECK; then
    [[ $failures == 0 ]] && { echo "cdn-demo: all checks passed"; exit 0; }
    echo "cdn-demo: $failures checks failed" >&2; exit 1
fi
cat <<TEXT

Running (Ctrl-C stops everything):
  director          http://127.0.0.1:$DIRECTOR_PORT   (curl --interface 127.0.1.10 … for eu-west)
  edge-us-east      http://127.0.0.1:${PORT[us-east]}   admin http://127.0.0.1:${ADMIN[us-east]}
  edge-eu-west      http://127.0.0.1:${PORT[eu-west]}   admin http://127.0.0.1:${ADMIN[eu-west]}
  edge-ap-south     http://127.0.0.1:${PORT[ap-south]}   admin http://127.0.0.1:${ADMIN[ap-south]}
  redis             127.0.0.1:$REDIS_PORT
Try: curl -s -X POST http://127.0.0.1:${ADMIN[eu-west]}/admin/cache/purge -d '{"all": true, "scope": "region:eu-west"}'
TEXT
wait
