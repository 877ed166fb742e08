#!/usr/bin/env bash
# Property-based tests of the running server against Docs/openapi.yaml with schemathesis:
# generated requests (valid and invalid) to every operation, with a real device token so they
# reach past authentication; no answer may be a 5xx, and every answer must match the document
# (status, content type, headers, body schema).
#   Tests/API/schemathesis.sh [MAX_EXAMPLES]     (default 100; part of `make test`)
# Needs the debug build (`swift build`) and python3 with venv; installs schemathesis into
# .build/venv on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
examples="${1:-${SCHEMATHESIS_EXAMPLES:-100}}"
venv=.build/venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bin=.build/debug
db="sqlite:$work/server.sqlite"
"$bin/kakehashi-server" serve --host 127.0.0.1 --port 0 --db "$db" > "$work/url" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -1 "$work/url")

# One enrolled device for the bearer token, and a second advisor with a case-worthy program.
advisor=$("$bin/kakehashi-server" advisor add --name 山田太郎 --role business-producer \
  --program business-production --db "$db")
code=$("$bin/kakehashi-server" enroll "$advisor" --db "$db")
token=$(curl -sf -X POST "$url/v1/enroll" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$code\",\"deviceName\":\"schemathesis\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

echo "schemathesis against $url, $examples examples per operation"
status=0
# From the scratch directory: schemathesis keeps state in .schemathesis/ of its working directory.
root=$(pwd)
(cd "$work" && "$root/$venv/bin/schemathesis" run "$root/Docs/openapi.yaml" --url "$url" \
  --header "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance --max-examples "$examples" --seed "${SCHEMATHESIS_SEED:-20261121}" \
  --generation-database none --no-color) || status=$?
if grep -q '"status":5' "$work/server.log" 2>/dev/null; then
  echo "the server logged a 5xx:" >&2
  grep '"status":5' "$work/server.log" >&2
  status=1
fi
exit $status
