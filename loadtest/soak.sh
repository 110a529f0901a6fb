#!/usr/bin/env bash
# soak.sh — 30 minutes of mixed traffic against a release gateway while its config is reloaded
# every minute and one of its two upstream endpoints restarts; RSS sampled every 10 s. Passes
# with zero unexpected answers, every reload applied, and no upward RSS trend after warm-up.
# See loadtest/README.md.
#
# Traffic: proxied GETs (40 %), cached objects with Zipf-like popularity and a 5 s freshness so
# there are hits, misses and revalidations (30 %), a route limited to 50-60/s sent 100/s
# (10 %, 429 allowed), valid JWTs (10 %) and expired, forged or garbage ones (10 %, 401 expected).
#
# Environment (all optional):
#   SHORT=1        a 3-minute run: reload every 20 s, restart every 45 s, 30 s warm-up
#   DURATION       seconds (default 1800)         RATE         requests/s (default 1000)
#   CONNECTIONS    keep-alive clients (32)         RELOAD_EVERY seconds (60)
#   RESTART_EVERY  seconds between upstream stops (120); DOWN seconds it stays down (10)
#   WARMUP         seconds before the RSS trend counts (120)
#   GATEWAY_BIN    gateway binary (default: <repo>/.build/release/gateway)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
NAME=soak
GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
if [[ ${SHORT:-0} == 1 ]]; then
    : "${DURATION:=180}" "${RELOAD_EVERY:=20}" "${RESTART_EVERY:=45}" "${DOWN:=5}" "${WARMUP:=30}"
fi
DURATION=${DURATION:-1800}
RATE=${RATE:-1000}
CONNECTIONS=${CONNECTIONS:-32}
RELOAD_EVERY=${RELOAD_EVERY:-60}
RESTART_EVERY=${RESTART_EVERY:-120}
DOWN=${DOWN:-10}
WARMUP=${WARMUP:-120}
# shellcheck source=processes.sh
source "$HERE/processes.sh"
log() { printf '[soak] %s\n' "$*" >&2; }
# Origin B is started and stopped by soak.py; if that ends abnormally, B is stopped here.
trap 'if [[ -s $WORK/b/nginx.pid ]]; then kill "$(cat "$WORK/b/nginx.pid")" 2>/dev/null || true; fi; cleanup' EXIT
[[ -x $GATEWAY_BIN ]] || { log "no gateway at $GATEWAY_BIN (make release)"; exit 1; }

# Two origins serving the same content: A stays up, B is stopped and started by soak.py.
BODY=$(head -c 1536 /dev/zero | tr '\0' 'x')
origin_conf() { # name port
    mkdir -p "$WORK/$1"
    cat >"$WORK/$1/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/$1/nginx.pid; error_log $WORK/$1/error.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/$1; proxy_temp_path $WORK/$1;
  fastcgi_temp_path $WORK/$1; uwsgi_temp_path $WORK/$1; scgi_temp_path $WORK/$1;
  server { listen 127.0.0.1:$2;
    location = /health { return 200 "ok"; }
    location /static/ { add_header Cache-Control "max-age=5"; return 200 "$BODY"; }
    location / { default_type application/json; return 200 '{"origin":"$1"}'; } } }
CONF
}
PORT_A=$(free_port)
PORT_B=$(free_port)
origin_conf a "$PORT_A"
origin_conf b "$PORT_B"
nginx -p "$WORK/a/" -c "$WORK/a/nginx.conf" -e "$WORK/a/error.log" &
PIDS+=($!)
wait_port "$PORT_A" || { log "origin A did not start"; exit 1; }

PORT=$(free_port)
ADMIN_PORT=$(free_port)
SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
cat >"$WORK/gateway.template.yaml" <<CONF
node: { id: soak }
listeners:
  - name: public
    address: 127.0.0.1:$PORT
    timeouts: { header_read: 10s, body_read: 10s, idle: 60s }
upstreams:
  app:
    endpoints: [{ address: 127.0.0.1:$PORT_A }, { address: 127.0.0.1:$PORT_B }]
    balance: round_robin
    health_check: { path: /health, interval: 1s, timeout: 500ms, healthy: 2, unhealthy: 1 }
    circuit_breaker: { consecutive_failures: 3, open_for: 5s }
    retries: { attempts: 2, on: [connect_failure, reset, 502, 503], backoff: 5ms }
auth:
  jwt:
    soak: { secret_env: SOAK_JWT_SECRET, algorithms: [HS256], issuer: soak, audience: api }
rate_limits:
  tight: { algorithm: token_bucket, rate: @LIMIT@/s, burst: 20, key: [client_ip] }
routes:
  - name: proxy
    match: { path_prefix: /api/ }
    upstream: app
    headers: { response: { set: { X-Generation: "@GENERATION@" } } }
  - name: cache
    match: { path_prefix: /static/ }
    upstream: app
    cache: { default_ttl: 5s, stale_while_revalidate: 2s, stale_if_error: 1m }
  - name: limited
    match: { path_prefix: /limited/ }
    upstream: app
    rate_limits: [tight]
  - name: private
    match: { path_prefix: /private/ }
    upstream: app
    auth: { jwt: soak }
cache: { memory: 16MiB }
logging: { level: warning, access_log: { path: /dev/null } }
admin: { address: 127.0.0.1:$ADMIN_PORT }
CONF
sed 's/@GENERATION@/0/; s/@LIMIT@/50/' "$WORK/gateway.template.yaml" >"$WORK/gateway.yaml"
SOAK_JWT_SECRET=$SECRET "$GATEWAY_BIN" run --config "$WORK/gateway.yaml" 2>"$WORK/gateway.log" &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_port "$PORT" || { log "gateway did not start"; tail "$WORK/gateway.log" >&2; exit 1; }

mkdir -p "$HERE/results"
CSV="$HERE/results/soak-$(date +%Y%m%d-%H%M%S).csv"
log "gateway pid $GATEWAY_PID on $PORT; ${DURATION}s at ${RATE}/s; reload every ${RELOAD_EVERY}s; upstream B down ${DOWN}s every ${RESTART_EVERY}s"
status=0
python3 "$HERE/soak.py" port="$PORT" admin_port="$ADMIN_PORT" gateway_pid="$GATEWAY_PID" duration="$DURATION" \
    rate="$RATE" connections="$CONNECTIONS" reload_every="$RELOAD_EVERY" restart_every="$RESTART_EVERY" \
    down="$DOWN" sample_every=10 warmup="$WARMUP" secret="$SECRET" csv="$CSV" \
    template="$WORK/gateway.template.yaml" config="$WORK/gateway.yaml" \
    upstream_b="nginx -p $WORK/b/ -c $WORK/b/nginx.conf -e $WORK/b/error.log" || status=$?
errors=$(grep -c '"level":"error"' "$WORK/gateway.log" || true)
warnings=$(grep -c '"level":"warning"' "$WORK/gateway.log" || true)
echo "  gateway log: $errors error and $warnings warning lines"
{ grep -o '"message":"[^"]*"' "$WORK/gateway.log" || true; } | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/    /'
exit $status
