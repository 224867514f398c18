#!/usr/bin/env bash
# Calls a dragoman server with grpcurl. The server offers reflection, so no .proto is needed.
#
#   clients/examples/grpcurl.sh [TEXT...]
#
# Environment:
#   DRAGOMAN_ADDRESS  server address (default 127.0.0.1:50051)
#   DRAGOMAN_API_KEY  sent as `authorization: Bearer <key>` when set
#   TO, FROM          target and source language (default fra_Latn and eng_Latn)
#   GRPCURL           grpcurl binary (default: grpcurl on PATH)
#   GRPCURL_TLS       TLS flags, e.g. "-cacert ca.pem" (default: -plaintext)
set -euo pipefail

address=${DRAGOMAN_ADDRESS:-127.0.0.1:50051}
to=${TO:-fra_Latn}
from=${FROM:-eng_Latn}
grpcurl=${GRPCURL:-grpcurl}
read -r -a tls <<<"${GRPCURL_TLS:--plaintext}"
args=("${tls[@]}" -max-time 30)
[ -n "${DRAGOMAN_API_KEY:-}" ] && args+=(-H "authorization: Bearer ${DRAGOMAN_API_KEY}")
(($#)) || set -- "Hello world." "The cat eats."

# JSON string of each argument (python3 escapes it; no jq needed).
json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:])[1:-1])' "$@"; }

echo "# services"
"$grpcurl" "${args[@]}" "$address" list

echo "# health (SERVING once the model is loaded and warm)"
"$grpcurl" "${args[@]}" -d '{"service": ""}' "$address" grpc.health.v1.Health/Check

echo "# models"
"$grpcurl" "${args[@]}" "$address" dragoman.translation.v1.TranslationService/ListModels

echo "# translate"
"$grpcurl" "${args[@]}" -d "{\"contents\": [$(json "$@")],
  \"source_language_code\": \"$from\", \"target_language_code\": \"$to\"}" \
    "$address" dragoman.translation.v1.TranslationService/TranslateText

echo "# stream: config first, then one message per segment"
{
    echo "{\"config\": {\"source_language_code\": \"$from\", \"target_language_code\": \"$to\"}}"
    i=0
    for text in "$@"; do
        echo "{\"segment\": {\"segment_id\": \"s$i\", \"text\": $(json "$text")}}"
        i=$((i + 1))
    done
} | "$grpcurl" "${args[@]}" -d @ "$address" dragoman.translation.v1.TranslationService/StreamTranslateText
