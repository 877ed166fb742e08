#!/usr/bin/env bash
# `make demo`: one server, three advisors of three programs on three laptops, and a week of
# their work told as it happens. Leaves the exports (CSV and Excel workbooks) and the HTML
# indicator report in $DEMO_DIR (default ./demo-output) and stops the server.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KAKEHASHI_BIN_DIR:-$root/.build/debug}"
out="${DEMO_DIR:-$root/demo-output}"
client="$bin/kakehashi"
server="$bin/kakehashi-server"
for program in "$client" "$server"; do
  [ -x "$program" ] || { echo "error: $program is not built; run 'swift build' (make demo does)" >&2; exit 1; }
done

# Only ever delete a directory an earlier demo made (it carries a marker file).
if [ -e "$out" ]; then
  if [ -f "$out/.kakehashi-demo" ]; then
    rm -rf "$out"
  elif [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
    echo "error: $out exists and was not made by make demo; remove it or set DEMO_DIR" >&2
    exit 1
  fi
fi
mkdir -p "$out/server" "$out/laptops" "$out/exports" "$out/workbooks"
touch "$out/.kakehashi-demo"
db="sqlite:$out/server/kakehashi.sqlite"
step=""
server_pid=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
on_exit() {
  status=$?
  stop_server
  if [ $status -ne 0 ]; then
    echo "" >&2
    echo "make demo failed during: $step (exit $status). Server log: $out/server/server.log" >&2
  fi
}
trap on_exit EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
note() { printf '  %s\n' "$*"; }
admin() { "$server" "$@" --db "$db"; }
laptop() { local who=$1; shift; "$client" "$@" --home "$out/laptops/$who"; }
indent() { sed 's/^/    /'; }

step="starting the server"
say "架け橋 Kakehashi デモ — 事業プロデューサー、マッチングプランナー、知財アドバイザーの一週間"
"$server" serve --host 127.0.0.1 --port 0 --db "$db" > "$out/server/url" 2> "$out/server/server.log" &
server_pid=$!
for _ in $(seq 1 200); do
  [ -s "$out/server/url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$out/server/server.log" >&2; exit 1; }
  sleep 0.05
done
if [ ! -s "$out/server/url" ]; then
  echo "error: the server printed no URL within 10 seconds" >&2
  cat "$out/server/server.log" >&2
  exit 1
fi
url="$(head -n 1 "$out/server/url")"
note "内閣府の同期サーバを起動しました: $url"
note "組込み SQLite のデータ: $out/server/kakehashi.sqlite"

step="registering advisors and enrolling laptops"
yamada=$(admin advisor add --name 山田太郎 --role business-producer --program business-production --prefecture 神奈川県)
sato=$(admin advisor add --name 佐藤花子 --role matching-planner --program matching-planner --prefecture 宮城県)
ito=$(admin advisor add --name 伊藤誠 --role ip-advisor --program ip-advisor --prefecture 東京都)
for who in yamada sato ito; do
  code=$(admin enroll "${!who}")
  laptop "$who" init --server "$url" --code "$code" --name "$who-thinkpad" > /dev/null 2>&1
done
note "支援人材を3名登録し、それぞれのノートPCを登録しました:"
note "  山田太郎（事業プロデューサー, 経済産業省）  佐藤花子（マッチングプランナー, JST）  伊藤誠（知財アドバイザー, INPIT）"

step="importing the open-patent list"
imported=$(admin import seeds "$root/scripts/demo/open-patents.csv" 2> /dev/null | wc -l)
note "開放特許リスト（川崎モデル）から ${imported} 件のシーズを取り込みました。"

step="the business producer's offline visit"
say "1. 山田さんが電波の届かない工場で中小企業を訪問（オフライン）"
company=$(laptop yamada org add --name 株式会社川崎精密製作所 --kind sme --prefecture 神奈川県 --sme-type ip-developing)
need=$(laptop yamada need add --title "金属部品の表面処理と塗装の密着性向上" --org "$company" \
  --description "樹脂と金属の複合部品で塗装がはがれる。表面処理の技術と検査の自動化を探している。" --tag 表面処理 --tag 接着)
case_id=$(laptop yamada case add --title "川崎精密：複合部品の表面処理技術の導入" --kind ip-business-matching \
  --org "$company" --summary "塗装はがれの課題に対し、大学シーズと開放特許の活用を検討する。" --tag 表面処理)
laptop yamada event add "$case_id" --kind visit --date 2026-03-27 --body "年度末に工場を訪問。社長から塗装はがれの課題を聴取した。" > /dev/null
laptop yamada event add "$case_id" --kind consultation --date 2026-04-08 --body "新年度、技術部長と課題の整理。試作の予算は補助金の活用を検討。" > /dev/null
note "訪問記録・ニーズ・案件をオフラインで入力しました（未送信の変更: $(laptop yamada status --json | grep -o '"pending"[^,}]*' | grep -o '[0-9]*' | head -1) 件）。"

step="the matching planner adds a university seed"
say "2. 佐藤さん（マッチングプランナー）が大学のシーズを登録"
university=$(laptop sato org add --name 国立大学法人東北大学 --kind university --prefecture 宮城県)
laptop sato seed add --title "樹脂と金属の異種材料接合部の表面改質" --kind research-result --holder "$university" \
  --description "大気圧プラズマで樹脂と金属の表面を同時に改質し、塗装と接着の密着性を高める。試作評価の実績あり。" \
  --tag 表面処理 --tag 接着 --tag プラズマ > /dev/null
laptop sato sync > /dev/null
note "シーズを登録して同期しました。"

step="syncing and matching"
say "3. 山田さんが事務所に戻って同期し、ニーズに合うシーズを探す（match）"
laptop yamada sync > /dev/null
laptop yamada match "$need" --limit 3 --wide 2>&1 | indent

step="the referral to the IP advisor"
say "4. 知財アドバイザーへの紹介（事業をまたぐ引継ぎ）"
laptop yamada case refer "$case_id" "$ito" --note "大学シーズのライセンス交渉の前に、知財戦略の助言をお願いします。" > /dev/null
laptop yamada sync > /dev/null
laptop ito sync > /dev/null
note "伊藤さんのノートPCに案件が届きました: $(laptop ito case show "$case_id" --json | grep -o '"title" *: *"[^"]*"' | sed 's/.*: *//')"

step="who else supports this company"
say "5. 佐藤さんが同じ企業を見ると、他事業の支援者がわかる（秘の案件は概要のみ）"
laptop sato sync > /dev/null
laptop sato org show "$company" --wide | indent

step="the offline conflict"
say "6. 山田さんと伊藤さんがオフラインで同じ案件を同時に編集"
laptop yamada case stage "$case_id" matching > /dev/null
laptop ito case stage "$case_id" prototyping > /dev/null
laptop yamada event add "$case_id" --kind matching --date 2026-05-12 --body "東北大学の研究室と企業の面談を設定。表面改質の試作評価で合意。" > /dev/null
laptop ito event add "$case_id" --kind consultation --date 2026-05-13 --body "共同出願とライセンスの進め方を整理。先行技術調査を実施。" > /dev/null
laptop yamada sync > /dev/null
laptop ito sync > /dev/null
laptop yamada sync > /dev/null
laptop yamada conflicts | indent
conflict=$(laptop yamada conflicts --json | grep -o '"id" *: *"[^"]*"' | head -n 1 | sed 's/.*: *"\([^"]*\)"/\1/')
laptop yamada conflicts resolve "$conflict" --value prototyping > /dev/null
note "衝突は失われずに表示されました。山田さんが「試作」で解決し、全員に同期します。"

step="the lesson and the outcome"
say "7. 試作・補助金・好事例の記録"
laptop ito event add "$case_id" --kind license --date 2026-09-30 --body "東北大学と川崎精密が実施許諾契約を締結。" > /dev/null
laptop yamada event add "$case_id" --kind subsidy --date 2026-07-15 --body "ものづくり補助金に採択。試作費に充当。" > /dev/null
laptop yamada event add "$case_id" --kind lesson --date 2026-10-01 \
  --body "知財アドバイザーが早い段階で加わると、大学とのライセンス交渉が短くなる。" > /dev/null
laptop yamada case set "$case_id" good_practice=true license_signed=true > /dev/null
for who in yamada ito sato yamada; do laptop "$who" sync > /dev/null; done
note "全員が同期しました（山田さんと伊藤さんの案件の内容は一致: $( [ "$(laptop yamada case show "$case_id" --json)" = "$(laptop ito case show "$case_id" --json)" ] && echo はい || echo いいえ)）。"

step="exports and the indicator report"
say "8. 府省向けエクスポートと指標レポート"
for profile in cabinet-office meti mext; do
  admin export --profile "$profile" --out "$out/exports/$profile" > /dev/null 2>&1
  admin export --profile "$profile" --format xlsx --out "$out/workbooks/$profile" > /dev/null 2>&1
done
admin indicators --html "$out/indicators.html" > /dev/null
# The tables fit the terminal less the four columns of indentation.
COLUMNS=$(( ${COLUMNS:-80} - 4 )) admin indicators --fiscal-year 2026 | indent
stop_server

say "完了。作成したファイル:"
note "$out/exports/cabinet-office/  内閣府（全事業）: cases.csv events.csv organizations.csv indicators.csv referrals.csv good-practices.csv manifest.json"
note "$out/exports/meti/            経済産業省"
note "$out/exports/mext/            文部科学省"
note "$out/workbooks/cabinet-office/kakehashi-cabinet-office.xlsx  内閣府の Excel ブック（情報・案件・活動・支援先・指標・事業間紹介・好事例のシート）"
note "$out/workbooks/meti/kakehashi-meti.xlsx  経済産業省の Excel ブック"
note "$out/workbooks/mext/kakehashi-mext.xlsx  文部科学省の Excel ブック"
note "$out/indicators.html          指標レポート（ブラウザで開く。SVG グラフ入り、オフラインで表示可）"
note "$out/laptops/                 3台のノートPCのデータ（kakehashi --home で開けます）"
note "CSV は UTF-8（BOM 付き）・CRLF で、Excel でそのまま開けます。Excel ブックは法人番号を文字列、日付を日付、金額を数値で持ちます。"
note "manifest.json に各ファイルの SHA-256 があります。"
step="done"
