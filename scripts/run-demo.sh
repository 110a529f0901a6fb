#!/usr/bin/env bash
# Starts the demo backends that conf/gateway.yaml points at, then the gateway in the foreground.
# Ctrl-C (SIGINT) drains the gateway and stops the backends.
set -euo pipefail
config=${1:-conf/gateway.yaml}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
# The demo's HTTPS listener uses the development CA's certificates (git-ignored, made once).
certs/gen-dev-certs.sh
for port in 9001 9002; do
  python3 -m http.server "$port" --bind 127.0.0.1 --directory conf/demo-site >/dev/null 2>&1 &
  pids+=($!)
done
echo "demo backends on 127.0.0.1:9001 and :9002; gateway on the listeners of $config"
echo "try: curl -i http://127.0.0.1:8080/api/hello.json"
echo "     curl -i --cacert certs/dev/ca.crt https://localhost:8443/api/hello.json"
"$root/.build/release/gateway" validate "$config"
exec_status=0
"$root/.build/release/gateway" run --config "$config" || exec_status=$?
exit "$exec_status"
