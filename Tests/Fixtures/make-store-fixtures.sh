#!/usr/bin/env bash
# Writes the store fixtures that StoreUpgradeTests open with the current code: a small store made
# by one release, on each store, so an upgrade that loses or misreads data fails a test.
#
#   Tests/Fixtures/make-store-fixtures.sh VERSION    # e.g. schema-v3
#
# Needs built binaries (.build/debug or $KAKEHASHI_BIN_DIR) and PostgreSQL (scripts/test-postgres.sh).
# Writes Tests/Fixtures/store-VERSION.sqlite, store-VERSION.postgres.sql and store-VERSION.json
# (what the store holds: counts, one case's id and title, a device's token). Run it only when a
# release changes the store schema, with THAT release's binaries, and keep the older fixtures.
set -euo pipefail
version=${1:?usage: make-store-fixtures.sh VERSION}
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${KAKEHASHI_BIN_DIR:-$root/.build/debug}"
out="$root/Tests/Fixtures"
work=$(mktemp -d /tmp/kakehashi-fixture.XXXXXX)
state="$work/pg.state"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  KAKEHASHI_TEST_POSTGRES_STATE="$state" "$root/scripts/test-postgres.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# One small week of work: two advisors of two programs, a confidential case with an event, an
# organization, a referral, a revoked device; the same on either store.
populate() {
  local db=$1 home=$2
  "$bin/kakehashi-server" serve --host 127.0.0.1 --port 0 --db "$db" >"$work/url" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/url" ] && break; sleep 0.05; done
  local url
  url=$(head -n 1 "$work/url")
  local yamada ito
  yamada=$("$bin/kakehashi-server" advisor add --name 山田太郎 --role business-producer --program business-production --prefecture 神奈川県 --db "$db")
  ito=$("$bin/kakehashi-server" advisor add --name 伊藤誠 --role ip-advisor --program ip-advisor --prefecture 東京都 --db "$db")
  "$bin/kakehashi" init --server "$url" --code "$("$bin/kakehashi-server" enroll "$yamada" --db "$db")" --name yamada-thinkpad --home "$home/yamada" >/dev/null 2>&1
  "$bin/kakehashi" init --server "$url" --code "$("$bin/kakehashi-server" enroll "$ito" --db "$db")" --name ito-thinkpad --home "$home/ito" >/dev/null 2>&1
  local org case_id
  org=$("$bin/kakehashi" org add --name 株式会社川崎精密製作所 --kind sme --prefecture 神奈川県 --home "$home/yamada")
  case_id=$("$bin/kakehashi" case add --title "川崎精密：複合部品の表面処理技術の導入" --kind ip-business-matching --org "$org" \
    --summary "塗装はがれの課題に対し、大学シーズと開放特許の活用を検討する。" --level confidential --home "$home/yamada")
  "$bin/kakehashi" event add "$case_id" --kind visit --date 2026-03-27 --body "年度末に工場を訪問。社長から塗装はがれの課題を聴取した。" --home "$home/yamada" >/dev/null
  "$bin/kakehashi" sync --home "$home/yamada" >/dev/null
  "$bin/kakehashi" case refer "$case_id" "$ito" --note "知財戦略の助言をお願いします。" --home "$home/yamada" >/dev/null
  "$bin/kakehashi" sync --home "$home/yamada" >/dev/null
  "$bin/kakehashi" sync --home "$home/ito" >/dev/null
  local spare
  spare=$("$bin/kakehashi-server" enroll "$ito" --db "$db")
  "$bin/kakehashi" init --server "$url" --code "$spare" --name lost-laptop --home "$home/lost" >/dev/null 2>&1
  "$bin/kakehashi-server" revoke "$(sqlite3 "$home/lost/kakehashi.sqlite" 'SELECT device FROM device')" --db "$db" >/dev/null
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  echo "$case_id"
}

case_id=$(populate "sqlite:$work/store.sqlite" "$work/sqlite-laptops")
changes=$(sqlite3 "$work/store.sqlite" 'SELECT count(*) FROM changes')
records=$(sqlite3 "$work/store.sqlite" 'SELECT count(*) FROM records')
devices=$(sqlite3 "$work/store.sqlite" 'SELECT count(*) FROM devices')
token=$(sqlite3 "$work/sqlite-laptops/ito/kakehashi.sqlite" 'SELECT token FROM device')
cp "$work/store.sqlite" "$out/store-$version.sqlite"

eval "$(KAKEHASHI_TEST_POSTGRES_STATE="$state" "$root/scripts/test-postgres.sh" start)"
pg_case=$(populate "$KAKEHASHI_TEST_POSTGRES_URL" "$work/postgres-laptops")
pg_dump --no-owner --no-privileges --format=plain "$KAKEHASHI_TEST_POSTGRES_URL" >"$out/store-$version.postgres.sql"
pg_changes=$(psql -At "$KAKEHASHI_TEST_POSTGRES_URL" -c 'SELECT count(*) FROM changes')

cat >"$out/store-$version.json" <<JSON
{
  "madeBy": "$(git -C "$root" rev-parse --short HEAD)",
  "sqlite": {"changes": $changes, "records": $records, "devices": $devices, "case": "$case_id", "token": "$token"},
  "postgres": {"changes": $pg_changes, "case": "$pg_case"},
  "caseTitle": "川崎精密：複合部品の表面処理技術の導入"
}
JSON
echo "wrote $out/store-$version.{sqlite,postgres.sql,json}"
