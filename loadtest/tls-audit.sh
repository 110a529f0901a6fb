#!/usr/bin/env bash
# tls-audit.sh — testssl.sh (Debian package testssl.sh) against the gateway's TLS listener, with
# the dev certificates (made in a temp dir). Prints the protocol, cipher and vulnerability lines
# and exits 1 if a weak protocol or cipher is offered or anything is reported vulnerable.
#
# Environment: GATEWAY_BIN (default <repo>/.build/release/gateway), FULL=1 for testssl's full run
# (default: --fast).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
NAME=tls-audit
GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
# shellcheck source=processes.sh
source "$HERE/processes.sh"
log() { printf '[tls-audit] %s\n' "$*" >&2; }
command -v testssl >/dev/null || { log "testssl not found (apt-get install -y testssl.sh)"; exit 1; }
[[ -x $GATEWAY_BIN ]] || { log "no gateway at $GATEWAY_BIN (make release)"; exit 1; }

"$REPO/certs/gen-dev-certs.sh" "$WORK/certs" >/dev/null
PORT=$(free_port)
cat >"$WORK/gateway.yaml" <<CONF
listeners:
  - name: tls
    address: 127.0.0.1:$PORT
    protocols: [http1, h2]
    tls:
      certificates:
        - { cert: $WORK/certs/server.crt, key: $WORK/certs/server.key }
upstreams: { app: { endpoints: [{ address: 127.0.0.1:9 }] } }
routes: [{ name: all, match: { path_prefix: / }, upstream: app }]
CONF
"$GATEWAY_BIN" run --config "$WORK/gateway.yaml" 2>"$WORK/gateway.log" &
PIDS+=($!)
wait_port "$PORT" || { log "gateway did not start"; tail "$WORK/gateway.log" >&2; exit 1; }

mode=(--fast)
[[ ${FULL:-0} == 1 ]] && mode=()
testssl --quiet --color 0 --warnings off "${mode[@]}" "127.0.0.1:$PORT" >"$WORK/testssl.txt" 2>&1 || true
grep -E '^ (SSLv2|SSLv3|TLS 1(\.[0-3])?|ALPN)' "$WORK/testssl.txt"
grep -E 'ciphers|Obsolete CBC|Strong encryption|PFS is offered|Has server cipher order' "$WORK/testssl.txt" | head -12
grep -E '\((CVE|RFC)|ROBOT|Renegotiation' "$WORK/testssl.txt" | sed 's/  */ /g' | head -25
weak=$(grep -E '^ (SSLv2|SSLv3|TLS 1 |TLS 1\.1) +offered' "$WORK/testssl.txt" || true)
weak+=$(grep -E '(NULL|Anonymous|Export|LOW|Triple DES|Obsolete CBC).*  offered' "$WORK/testssl.txt" | grep -v 'not offered' || true)
vulnerable=$(grep -E 'VULNERABLE' "$WORK/testssl.txt" || true)
if [[ -n $weak || -n $vulnerable ]]; then
    log "FAILED: weak protocol/cipher or vulnerability reported:"
    printf '%s\n%s\n' "$weak" "$vulnerable" >&2
    exit 1
fi
echo "tls-audit: no weak protocol or cipher offered, nothing reported vulnerable"
