#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the development / test PKI with the openssl CLI into a folder (default certs/dev/):
#   ca.pem ca.key                 development root CA (ECDSA P-256, 10 years)
#   server.pem server.key         leaf for localhost + 127.0.0.1 + ::1, ECDSA P-256
#   server-rsa.pem server-rsa.key same names, RSA-2048 (served side by side with the ECDSA one)
#   sni-a.pem sni-a.key           leaf for a.localhost (SNI tests)
#   sni-b.pem sni-b.key           leaf for b.localhost and *.b.localhost (SNI wildcard tests)
#   expired.pem expired.key       localhost leaf that expired in 2020 (failure tests)
# Leaf files hold the leaf only (the root is the trust anchor; there is no intermediate here).
# Idempotent: existing files are kept unless they are missing, expired (except expired.pem) or
# --force is given. Keys are written with mode 0600. Never commit the output (.gitignore).
#
# usage: certs/gen.sh [--force] [out_dir]
set -euo pipefail

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
out="${1:-$(dirname "$0")/dev}"
mkdir -p "$out"
cd "$out"
umask 077  # keys (and everything else) private by default; certificates are chmod 644 below

need() {  # need <cert> [check-expiry]: 0 when the cert must be (re)made
  [[ $force == 1 || ! -s "$1" || ! -s "${1%.pem}.key" ]] && return 0
  [[ "${2:-}" == check ]] && ! openssl x509 -in "$1" -noout -checkend 86400 >/dev/null && return 0
  return 1
}

key() {  # key <file> <ec|rsa>
  if [[ "$2" == rsa ]]; then
    openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
  else
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  fi
  chmod 600 "$1"
}

made_ca=0
if need ca.pem check; then
  key ca.key ec
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=network_server development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out ca.pem
  chmod 644 ca.pem
  made_ca=1
  echo "made $out/ca.pem"
fi

# leaf <name> <ec|rsa> <cn> <san> [startdate enddate]
leaf() {
  local name=$1 alg=$2 cn=$3 san=$4
  local check=check
  [[ $# -gt 4 ]] && check=
  if [[ $made_ca == 0 ]] && ! need "$name.pem" $check; then return; fi
  key "$name.key" "$alg"
  local tmp
  tmp=$(mktemp -d)
  cat >"$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
subjectAltName=$san
EXT
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$tmp/req.csr"
  if [[ $# -gt 4 ]]; then
    # `openssl ca` is the only CLI way to choose arbitrary validity dates (expired certificate).
    mkdir -p "$tmp/db"
    : >"$tmp/db/index.txt"
    cat >"$tmp/ca.cnf" <<CA
[ca]
default_ca = dev
[dev]
database = $tmp/db/index.txt
new_certs_dir = $tmp/db
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
policy = any
rand_serial = yes
unique_subject = no
[any]
commonName = supplied
CA
    openssl ca -batch -notext -config "$tmp/ca.cnf" -extfile "$tmp/ext.cnf" -startdate "$5" \
      -enddate "$6" -in "$tmp/req.csr" -out "$name.pem" 2>/dev/null
  else
    openssl x509 -req -in "$tmp/req.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$name.pem" 2>/dev/null
  fi
  rm -rf "$tmp"
  chmod 644 "$name.pem"
  echo "made $out/$name.pem"
}

local_san="DNS:localhost,IP:127.0.0.1,IP:::1"
leaf server ec localhost "$local_san"
leaf server-rsa rsa localhost "$local_san"
leaf sni-a ec a.localhost "DNS:a.localhost"
leaf sni-b ec b.localhost "DNS:b.localhost,DNS:*.b.localhost"
leaf expired ec localhost "$local_san" 20200101000000Z 20200102000000Z
