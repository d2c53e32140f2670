#!/usr/bin/env bash
# Run every built fuzz target for N seconds with its seed corpus: fuzz/run.sh BUILD_DIR SECONDS.
# Seeds: fuzz/seeds/<target>.txt lists globs under tests/data (one per line).
set -eu
build=$1; secs=$2
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
status=0
for exe in "$build"/fuzz/fuzz_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  corpus="$build/fuzz/corpus-$name"; mkdir -p "$corpus"
  if [ -f "$here/seeds/$name.txt" ]; then
    while read -r glob; do
      [ -n "$glob" ] || continue
      for f in $root/tests/data/$glob; do [ -f "$f" ] && cp "$f" "$corpus/" 2>/dev/null || true; done
    done < "$here/seeds/$name.txt"
  fi
  echo "fuzz: $name for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$exe" -max_total_time="$secs" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/$name-" "$corpus" > "$build/fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FOUND A PROBLEM:"; tail -40 "$build/fuzz/$name.log"; status=1
  else
    grep -E 'stat::number_of_executed_units' "$build/fuzz/$name.log" || true
  fi
done
exit $status
