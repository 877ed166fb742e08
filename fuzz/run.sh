#!/usr/bin/env bash
# Builds the libFuzzer targets against the Shared/ sources and runs each for a bounded time.
#   fuzz/run.sh [SECONDS]        (default 60 per target; `make fuzz`)
# A target is one executable: every Shared/ source, fuzz/FuzzSupport.swift and its entry file,
# compiled with -sanitize=fuzzer,address. Crashes are written to .build/fuzz/<target>.crashes/ and fail
# the run; new inputs found go to a scratch corpus, never into the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-60}}"
out=.build/fuzz
mkdir -p "$out/bin"
shared=$(find Shared -name '*.swift' | sort)
status=0
for target in PushBody BinaryPushBody PullBody BinaryPullPage ChangeValidator; do
  binary="$out/bin/$target"
  echo "== building $target"
  flock /tmp/kakehashi-swift.lock swiftc -O -parse-as-library -swift-version 6 \
    -enable-upcoming-feature ExistentialAny -sanitize=fuzzer,address -module-name "Fuzz$target" \
    $shared fuzz/FuzzSupport.swift "fuzz/$target.swift" -o "$binary" 2> "$out/$target.build.log" \
    || { cat "$out/$target.build.log" >&2; exit 1; }
  scratch="$out/$target.corpus"
  mkdir -p "$scratch" "$out/$target.crashes"
  # BinaryPullPage and BinaryPushBody start from the JSON bodies (each is written in binary).
  seeds="fuzz/corpus/$target"
  [ "$target" = BinaryPullPage ] && seeds=fuzz/corpus/PullBody
  [ "$target" = BinaryPushBody ] && seeds=fuzz/corpus/PushBody
  echo "== fuzzing $target for ${seconds}s (seeds: $seeds)"
  if ! "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -dict=fuzz/json.dict \
    -artifact_prefix="$out/$target.crashes/" -print_final_stats=1 "$scratch" "$seeds" \
    > "$out/$target.log" 2>&1; then
    echo "FAILED: $target — see $out/$target.log and the input in $out/$target.crashes/" >&2
    tail -40 "$out/$target.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|Done [0-9]+ runs" "$out/$target.log" | tail -2
  fi
done
exit $status
