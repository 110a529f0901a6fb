#!/usr/bin/env bash
# idle-connections.sh — how many idle keep-alive connections the gateway holds, and what each
# costs in memory, while normal requests are still served. See loadtest/README.md.
#
# Environment (all optional):
#   GATEWAY_BIN  gateway binary   (default: <repo>/.build/release/gateway)
#   COUNT        idle connections (default: 10000)
#   HOLD         seconds to hold them after all are open (default: 5)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
NAME=idle-connections
GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
COUNT=${COUNT:-10000}
HOLD=${HOLD:-5}
# shellcheck source=processes.sh
source "$HERE/processes.sh"
log() { printf '[idle-connections] %s\n' "$*" >&2; }

[[ -x $GATEWAY_BIN ]] || { log "no gateway at $GATEWAY_BIN (make release)"; exit 1; }
ulimit -n $((COUNT * 2 + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open files limit: $(ulimit -n)"

# Origin: nginx, tiny answers, keep-alive.
ORIGIN_PORT=$(free_port)
mkdir -p "$WORK/origin"
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/origin/nginx.pid; error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/origin; proxy_temp_path $WORK/origin;
  fastcgi_temp_path $WORK/origin; uwsgi_temp_path $WORK/origin; scgi_temp_path $WORK/origin;
  server { listen 127.0.0.1:$ORIGIN_PORT; location / { return 200 "ok"; } } }
CONF
nginx -p "$WORK/origin/" -c "$WORK/origin/nginx.conf" -e "$WORK/origin/error.log" &
PIDS+=($!)
wait_port "$ORIGIN_PORT" || { log "origin did not start"; exit 1; }

PORT=$(free_port)
cat >"$WORK/gateway.yaml" <<CONF
listeners:
  - name: public
    address: 127.0.0.1:$PORT
    max_connections: $((COUNT + 1000))
    timeouts: { header_read: 30s, body_read: 30s, idle: 10m }
upstreams: { app: { endpoints: [{ address: 127.0.0.1:$ORIGIN_PORT }] } }
routes: [{ name: all, match: { path_prefix: / }, upstream: app }]
CONF
"$GATEWAY_BIN" run --config "$WORK/gateway.yaml" 2>"$WORK/gateway.log" &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_port "$PORT" || { log "gateway did not start"; tail "$WORK/gateway.log" >&2; exit 1; }

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$GATEWAY_PID/status"; }
# Warm up: pools, caches and the first allocations of every event loop.
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/warm"; done
BEFORE=$(rss_kib)
log "gateway RSS before: $BEFORE KiB"

python3 "$HERE/idle-connections.py" "$PORT" "$COUNT" "$WORK/ready" "$HOLD" &
CLIENT=$!
PIDS+=($CLIENT)
until [[ -s $WORK/ready ]]; do
    kill -0 "$CLIENT" 2>/dev/null || { log "client ended early"; exit 1; }
    sleep 0.2
done
read -r _ OPEN FAILED ERRORS <"$WORK/ready"
HELD=$(rss_kib)
# A normal request while they are all held.
LATENCY=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/normal")
wait "$CLIENT" || true
ALIVE=$(awk '/^alive/ { print $2 }' "$WORK/ready")
AFTER=$(rss_kib)
PER=$(( (HELD - BEFORE) * 1024 / (OPEN > 0 ? OPEN : 1) ))
echo "idle-connections: $OPEN open ($FAILED failed${ERRORS:+: $ERRORS}), $ALIVE still open after ${HOLD}s"
echo "gateway RSS: before $BEFORE KiB, holding $HELD KiB, after they closed $AFTER KiB"
echo "memory per idle connection: $PER bytes ($(( PER / 1024 )) KiB)"
echo "a normal request while holding them: status and seconds $LATENCY"
