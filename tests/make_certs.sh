#!/usr/bin/env bash
# Makes a CA and a server certificate for 127.0.0.1 and localhost that it signs, in DIR:
# ca.pem (to trust), cert.pem and key.pem (for the server). Two days' validity.
#   usage: bash tests/make_certs.sh DIR
set -uo pipefail
OUT=$1
mkdir -p "$OUT"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$OUT/leaf.ext"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=ferrosocket-test-ca \
    -keyout "$OUT/ca.key" -out "$OUT/ca.pem" &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$OUT/key.pem" -out "$OUT/leaf.csr" &&
  openssl x509 -req -in "$OUT/leaf.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial -days 2 \
    -extfile "$OUT/leaf.ext" -out "$OUT/cert.pem"; } >"$OUT/openssl.log" 2>&1 || { cat "$OUT/openssl.log"; exit 2; }
