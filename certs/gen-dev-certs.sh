#!/usr/bin/env bash
# Makes a development CA and the certificates the demo and the tests use, in certs/dev/ (or $1).
# Generated keys are git-ignored: run this once after a clone (make run does it for you).
#
#   ca.crt / ca.key            "Gateway Dev CA", trusted by the demo's clients (curl --cacert)
#   server.crt / server.key    default certificate: localhost, 127.0.0.1, ::1
#   api.crt / api.key          api.example.test and *.api.example.test (chosen by SNI)
#   origin.crt / origin.key    origin.example.test, for an HTTPS upstream
#   client.crt / client.key    a client certificate (mTLS to upstreams)
#
# Keys are ECDSA P-256; certificates are valid for 825 days. FORCE=1 makes new ones.
set -euo pipefail
out=${1:-$(cd "$(dirname "$0")" && pwd)/dev}
mkdir -p "$out"
cd "$out"
if [[ -f ca.crt && -f server.crt && -f api.crt && -f origin.crt && -f client.crt && ${FORCE:-0} != 1 ]]; then
    echo "certificates already in $out (FORCE=1 to make new ones)"
    exit 0
fi
command -v openssl >/dev/null || { echo "openssl not found (apt-get install -y openssl)" >&2; exit 1; }

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null && chmod 600 "$1.key"; }

key ca
openssl req -x509 -new -key ca.key -sha256 -days 825 -subj "/CN=Gateway Dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null

# issue NAME CN SAN [EXTENDED_KEY_USAGE]
issue() {
    local name=$1 cn=$2 san=$3 usage=${4:-serverAuth}
    key "$name"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
        "$usage" "$san" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
        -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

issue server localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
issue api api.example.test "DNS:api.example.test,DNS:*.api.example.test"
issue origin origin.example.test "DNS:origin.example.test,IP:127.0.0.1"
issue client gateway-client "DNS:gateway-client" clientAuth
rm -f ca.srl
echo "development CA and certificates written to $out"
