#!/usr/bin/env bash
# Validates the live server's /openapi.json with openapi-spec-validator (PyPI), generates a
# Python client from it with openapi-python-client (PyPI), and calls a few operations through
# that client (scripts/openapi_client_check.py). Fails if any step does.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q openapi-spec-validator openapi-python-client
PATH="$work/venv/bin:$PATH"

cargo build -q -p roster
secret=openapi-client-secret-0123456789
ROSTER_BOOTSTRAP_CLIENT_ID=gen ROSTER_BOOTSTRAP_CLIENT_SECRET=$secret ROSTER_LOG=error \
  target/debug/roster serve --listen 127.0.0.1:0 --database "sqlite://$work/roster.db" > "$work/out" &
server=$!
for _ in $(seq 300); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^roster listening on //p' "$work/out")
[ -n "$base" ] || { echo "roster did not start" >&2; exit 1; }

curl -sSf -o "$work/openapi.json" "$base/openapi.json"
openapi-spec-validator "$work/openapi.json"
(cd "$work" && openapi-python-client generate --path openapi.json --meta none --output-path roster_client)
PYTHONPATH="$work" python3 scripts/openapi_client_check.py "$base" gen "$secret"
