#!/usr/bin/env bash
# Writes the laptop store fixture that LaptopStoreUpgradeTests opens with the current code: a
# laptop's store made by one build, and what that build's own `kakehashi` printed from it, so an
# upgrade of the local store that loses or misreads a record, its history or its search fails.
#
#   Tests/Fixtures/make-laptop-fixture.sh VERSION    # e.g. v7 (the last local store migration)
#
# Needs that build's binaries ($KAKEHASHI_BIN_DIR, else .build/debug). Writes
# Tests/Fixtures/laptop-VERSION/: kakehashi.sqlite (checkpointed, no WAL) and one JSON file per
# command in expected/. Run it only when the local store's schema changes, with the binaries of
# the build BEFORE the change, and keep the older fixtures.
set -euo pipefail
version=${1:?usage: make-laptop-fixture.sh VERSION}
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${KAKEHASHI_BIN_DIR:-$root/.build/debug}"
out="$root/Tests/Fixtures/laptop-$version"
work=$(mktemp -d /tmp/kakehashi-laptop-fixture.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite:$work/server.sqlite"
"$bin/kakehashi-server" serve --host 127.0.0.1 --port 0 --db "$db" >"$work/url" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(head -n 1 "$work/url")
yamada=$("$bin/kakehashi-server" advisor add --name 山田太郎 --role business-producer --program business-production --prefecture 神奈川県 --db "$db")
sato=$("$bin/kakehashi-server" advisor add --name 佐藤花子 --role business-producer --program business-production --prefecture 東京都 --db "$db")
k() { "$bin/kakehashi" "$@"; }
k init --server "$url" --code "$("$bin/kakehashi-server" enroll "$yamada" --db "$db")" --name yamada-thinkpad --home "$work/yamada" >/dev/null 2>&1
k init --server "$url" --code "$("$bin/kakehashi-server" enroll "$sato" --db "$db")" --name sato-surface --home "$work/sato" >/dev/null 2>&1
Y=(--home "$work/yamada")
S=(--home "$work/sato")

# Yamada's laptop: cases with a history of edits, tags added and removed, an event, a deleted
# case, text whose folded form differs from what was typed (ＩｏＴ, センサー), and a participant.
org=$(k org add --name 株式会社川崎精密製作所 --kind sme --prefecture 神奈川県 "${Y[@]}")
c1=$(k case add --title "川崎精密：複合部品の表面処理技術の導入" --kind ip-business-matching --org "$org" \
  --summary "塗装はがれの課題に対し、大学シーズと開放特許の活用を検討する。" "${Y[@]}")
c2=$(k case add --title "ＩｏＴセンサーによる圃場管理の試作" --kind venture --summary "農業用センサーネットワークの試作評価。" "${Y[@]}")
c3=$(k case add --title "中止になった知財戦略の相談" --kind venture "${Y[@]}")
k case stage "$c1" matching "${Y[@]}" >/dev/null
k case set "$c1" "tags=表面処理,開放特許" "${Y[@]}" >/dev/null
k event add "$c1" --kind visit --date 2026-03-27 --body "年度末に工場を訪問。社長から塗装はがれの課題を聴取した。" "${Y[@]}" >/dev/null
k case share "$c2" "$sato" "${Y[@]}" >/dev/null
k sync "${Y[@]}" >/dev/null
# Sato edits the shared case; Yamada pulls it, so his store holds another device's changes.
k sync "${S[@]}" >/dev/null
k case set "$c2" "summary=農業用センサーネットワークの試作評価。次は実証圃場を探す。" "${S[@]}" >/dev/null
k event add "$c2" --kind meeting --date 2026-04-02 --body "実証圃場の候補を三件挙げた。" "${S[@]}" >/dev/null
k sync "${S[@]}" >/dev/null
k case stage "$c1" prototyping "${Y[@]}" >/dev/null
k case set "$c1" "tags=表面処理" "${Y[@]}" >/dev/null
k case delete "$c3" "${Y[@]}" >/dev/null
k sync "${Y[@]}" >/dev/null
# Left pending: written after the last sync.
k case set "$c2" "stage=matching" "${Y[@]}" >/dev/null
k event add "$c2" --kind consultation --date 2026-04-10 --body "ＩｏＴ機器の知財について相談。" "${Y[@]}" >/dev/null
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

rm -rf "$out"
mkdir -p "$out/expected"
sqlite3 "$work/yamada/kakehashi.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$work/yamada/kakehashi.sqlite" "$out/kakehashi.sqlite"
e="$out/expected"
k case list --json "${Y[@]}" >"$e/case-list.json"
k case list --all --json "${Y[@]}" >"$e/case-list-all.json" 2>/dev/null || rm -f "$e/case-list-all.json"
k event list "$c1" --json "${Y[@]}" >"$e/event-list-1.json"
k event list "$c2" --json "${Y[@]}" >"$e/event-list-2.json"
n=0
for id in "$c1" "$c2" "$c3" "$org" $(sqlite3 "$work/yamada/kakehashi.sqlite" "SELECT id FROM events ORDER BY id"); do
  n=$((n + 1))
  echo "$id" >"$e/log-$n.id"
  k log "$id" --json "${Y[@]}" >"$e/log-$n.json"
done
n=0
for word in 表面処理 試作 センサー iot 知財 塗装はがれ 中止; do
  n=$((n + 1))
  echo "$word" >"$e/search-$n.word"
  k search "$word" --json "${Y[@]}" >"$e/search-$n.json"
done
k status --json "${Y[@]}" >"$e/status.json"
echo "made by $(git -C "$root" rev-parse --short HEAD); describe it in $out/README.md"
echo "wrote $out"
