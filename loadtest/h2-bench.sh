#!/usr/bin/env bash
# h2-bench.sh — HTTP/2 over TLS and TLS handshakes: the gateway vs nginx (`listen ... ssl http2`),
# both proxying to the same nginx origin on 127.0.0.1. See loadtest/README.md.
#
#   RUNS=3 loadtest/h2-bench.sh
#
# Environment (all optional):
#   GATEWAY_BIN  gateway binary                (default: <repo>/.build/release/gateway)
#   RUNS         measured runs per target, interleaved (default: 3); medians are compared
#   DURATION     seconds per run                (default: 10)
#   CLIENTS      h2load -c (connections)        (default: 32)
#   STREAMS      h2load -m (streams per conn)   (default: 16)
#   BODY_SIZE    origin body bytes              (default: 1024)
# Needs nginx (with http_v2 and ssl: nginx-light has both), h2load (nghttp2-client), wrk, openssl.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-32}
STREAMS=${STREAMS:-16}
BODY_SIZE=${BODY_SIZE:-1024}
for tool in nginx h2load wrk openssl python3; do
    command -v "$tool" >/dev/null || { echo "h2-bench: '$tool' not found (make deps-bench)" >&2; exit 1; }
done
[[ -x $GATEWAY_BIN ]] || { echo "h2-bench: no gateway at $GATEWAY_BIN (make release)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/h2-bench.XXXXXX)
# nginx workers run as nobody when started by root: the origin must be able to read the body.
chmod 0755 "$WORK"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
[[ -n ${KEEP_RUNNING:-} ]] && trap - EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

"$REPO/certs/gen-dev-certs.sh" "$WORK/certs" >/dev/null
head -c "$BODY_SIZE" /dev/zero | tr '\0' 'x' >"$WORK/body"
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); GATEWAY_PORT=$(free_port)
temp_paths() { printf 'client_body_temp_path %s/cb; proxy_temp_path %s/px; fastcgi_temp_path %s/fc; uwsgi_temp_path %s/uw; scgi_temp_path %s/sc;\n' "$1" "$1" "$1" "$1" "$1"; }

mkdir -p "$WORK/origin" "$WORK/nginx" "$WORK/gateway"
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/origin/pid; error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http { access_log off; server_tokens off; keepalive_requests 100000000; $(temp_paths "$WORK/origin")
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; location / { root $WORK; try_files /body =404; default_type text/plain; } } }
CONF
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2; daemon off; pid $WORK/nginx/pid; error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http { access_log off; server_tokens off; keepalive_requests 100000000; $(temp_paths "$WORK/nginx")
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 256; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX_PORT ssl http2 reuseport backlog=4096;
    ssl_certificate $WORK/certs/server.crt; ssl_certificate_key $WORK/certs/server.key;
    ssl_protocols TLSv1.2 TLSv1.3; http2_max_concurrent_streams 128;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  } }
CONF
cat >"$WORK/gateway/gateway.yaml" <<CONF
listeners:
  - name: bench
    address: 127.0.0.1:$GATEWAY_PORT
    protocols: [h2, http1]
    tls: { certificates: [{ cert: $WORK/certs/server.crt, key: $WORK/certs/server.key }] }
upstreams:
  origin: { endpoints: [{ address: 127.0.0.1:$ORIGIN_PORT }] }
routes:
  - { name: all, match: { path_prefix: / }, upstream: origin }
logging: { level: warning }
CONF
nginx -c "$WORK/origin/nginx.conf" -p "$WORK/origin" & PIDS+=($!)
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" & PIDS+=($!)
"$GATEWAY_BIN" run --config "$WORK/gateway/gateway.yaml" 2>"$WORK/gateway/stderr.log" & PIDS+=($!)
for port in "$ORIGIN_PORT" "$NGINX_PORT" "$GATEWAY_PORT"; do wait_port "$port" || { echo "port $port never opened" >&2; exit 1; }; done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A H2 HS
for target in nginx gateway; do H2[$target]=""; HS[$target]=""; done
port_of() { [[ $1 == nginx ]] && echo "$NGINX_PORT" || echo "$GATEWAY_PORT"; }
# Warm-up, then interleaved runs so both see the same machine.
for target in nginx gateway; do h2load -c "$CLIENTS" -m "$STREAMS" -D 2 "https://localhost:$(port_of $target)/" >/dev/null 2>&1 || true; done
for run in $(seq "$RUNS"); do
    for target in nginx gateway; do
        out=$(h2load -c "$CLIENTS" -m "$STREAMS" -D "$DURATION" "https://localhost:$(port_of $target)/" 2>&1)
        rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
        proto=$(awk '/Application protocol:/ { print $3 }' <<<"$out")
        failed=$(awk '/^requests:/ { print $10 }' <<<"$out")
        ok=$(awk '/^status codes:/ { print $3 }' <<<"$out")
        # A ratio of error pages is no measure: every response must be the origin's 2xx.
        [[ $failed == 0 && ${ok:-0} -gt 0 ]] || { echo "h2-bench: $target answered $failed requests with errors" >&2; echo "$out" >&2; exit 1; }
        echo "run $run $target h2: $rps req/s (protocol $proto, failed $failed)"
        H2[$target]+="$rps "
        # New TLS connection per request: the server closes after each response.
        out=$(wrk -t2 -c "$CLIENTS" -d "${DURATION}s" -H "Connection: close" "https://localhost:$(port_of $target)/" 2>&1)
        if grep -q "Non-2xx" <<<"$out"; then echo "h2-bench: $target answered with errors over HTTP/1.1" >&2; echo "$out" >&2; exit 1; fi
        hs=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
        echo "run $run $target TLS handshake+request per connection: $hs conn/s"
        HS[$target]+="$hs "
    done
done
printf '\nmedians over %s runs (h2load -c%s -m%s, %ss; wrk -c%s Connection: close)\n' "$RUNS" "$CLIENTS" "$STREAMS" "$DURATION" "$CLIENTS"
for target in nginx gateway; do
    printf '%-8s h2 %10.0f req/s   handshakes %8.0f conn/s\n' "$target" \
        "$(tr ' ' '\n' <<<"${H2[$target]}" | grep . | median)" "$(tr ' ' '\n' <<<"${HS[$target]}" | grep . | median)"
done
n=$(tr ' ' '\n' <<<"${H2[nginx]}" | grep . | median); g=$(tr ' ' '\n' <<<"${H2[gateway]}" | grep . | median)
hn=$(tr ' ' '\n' <<<"${HS[nginx]}" | grep . | median); hg=$(tr ' ' '\n' <<<"${HS[gateway]}" | grep . | median)
awk -v n="$n" -v g="$g" -v hn="$hn" -v hg="$hg" 'BEGIN {
    printf "gateway / nginx: h2 req/s x%.2f (goal >= 0.7, standing goal >= 1.0)   handshakes/s x%.2f\n", (n > 0 ? g / n : 0), (hn > 0 ? hg / hn : 0) }'
