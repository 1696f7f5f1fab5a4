#!/usr/bin/env bash
# Certificates for mutual TLS between the services and the Temporal frontend (docker-compose.yml):
# a private CA, the frontend's certificate (name "temporal", also used between Temporal's own
# services), and one client certificate per client: orchestrator, executor-worker, executor-dmz (the
# dmz pool's executors), temporal-ui, and admin (the Temporal CLI). Files that exist are kept;
# delete one to issue it again.
# Usage: scripts/temporal-certs.sh [folder]   (default: secrets/temporal-tls)
set -euo pipefail
dir=${1:-secrets/temporal-tls}
days=${TEMPORAL_CERT_DAYS:-825}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

key() { [ -f "$1.key" ] || (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"); }

if [ ! -f ca.pem ]; then
  key ca
  openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=OpsConductor Temporal CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem
fi

# issue <name> <extendedKeyUsage> <subjectAltName>
issue() {
  [ -f "$1.pem" ] && return 0
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$2" "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

issue temporal serverAuth,clientAuth DNS:temporal,DNS:localhost,IP:127.0.0.1
for client in orchestrator executor-worker executor-dmz temporal-ui admin; do issue "$client" clientAuth "DNS:$client"; done
echo "certificates in $(pwd): ca.pem, temporal.pem, orchestrator.pem, executor-worker.pem, executor-dmz.pem, temporal-ui.pem, admin.pem (keys beside them, mode 0600)"
