#!/usr/bin/env bash
# Images written by the NVS runtime pass the checker (no errors; warnings such as a namespace
# left empty by erase-all are fine): after 20,000 random sets with garbage
# collection (bench/nvs_runtime) and after the power-cut sweep's mixed workload (strings, multi-page
# blobs, erases, namespace erase-all) on 0x6000 and 0x10000 partitions.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {
  local out
  out=$("$ESPFORGE" nvs check "$1" 2>&1)
  local rc=$?
  echo "nvs check $2: $(printf '%s\n' "$out" | tail -1)"
  if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q "^0 error(s)"; then
    printf '%s\n' "$out"
    echo "FAIL: $2"
    fail=1
  fi
}
"$ESF_BIN_DIR/nvs_runtime" --sets 20000 --gets 10 --image-out "$tmp/sets.bin" >/dev/null ||
  { echo "FAIL: nvs_runtime"; exit 1; }
check "$tmp/sets.bin" "20000 random sets, 0x6000"
for size in 0x6000 0x10000; do
  "$ESF_BIN_DIR/nvs_powercut" --size $size --ops 600 --seed 5 --no-double \
    --image-out "$tmp/mixed.bin" >/dev/null || { echo "FAIL: nvs_powercut $size"; exit 1; }
  check "$tmp/mixed.bin" "mixed workload, $size"
done
exit $fail
