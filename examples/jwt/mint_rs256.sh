#!/usr/bin/env bash
# Mints an RS256 JWT for a browser client of sigd (--jwt-public-key-file)
# with nothing but openssl. Prints the token on stdout.
#
#   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt-key.pem
#   openssl pkey -in jwt-key.pem -pubout -out jwt-public.pem   # for sigd
#   ./mint_rs256.sh jwt-key.pem '{"sub":"ana","paths":["/chat/*"]}' 3600
set -euo pipefail
key="$1"               # the RSA private key (PEM)
claims="${2:-{\}}"     # extra claims, a JSON object
ttl="${3:-3600}"       # seconds until exp

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
exp=$(( $(date +%s) + ttl ))
# Add "exp" to the claims: '{"sub":"ana"}' -> '{"exp":123,"sub":"ana"}'.
body="${claims#\{}"
if [ -n "${body%\}}" ]; then payload="{\"exp\":$exp,$body"; else payload="{\"exp\":$exp}"; fi
header=$(printf '%s' '{"alg":"RS256","typ":"JWT"}' | b64url)
payload=$(printf '%s' "$payload" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$key" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$signature"
