#!/usr/bin/env bash
# NVS power-loss sweep (bench/nvs_powercut.c): a 2,000-op seeded workload on 0x6000 and 0x10000
# partitions, clean and torn cuts, every cut point plus a second cut at every recovery operation.
# Also purge mode (erased entries zero-filled) and an XTS-encrypted partition, torn.
# Under ASan+UBSan the 0x10000 runs use 1,000 operations and the encrypted one 400, to keep the
# suite's time reasonable.
set -u
bin="$ESF_BIN_DIR/nvs_powercut"
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
big_ops=2000
enc_ops=1000
if grep -q '^ESF_SANITIZE:BOOL=ON' "$ESF_BIN_DIR/CMakeCache.txt" 2>/dev/null; then
  big_ops=1000
  enc_ops=400
fi
fail=0
run() {
  local out
  out=$("$bin" "$@" 2>&1)
  local rc=$?
  echo "nvs_powercut $*: $out"
  local line
  line=$(printf '%s\n' "$out" | grep '^cuts=')
  if [ $rc -ne 0 ] || ! printf '%s\n' "$line" | grep -Eq '^cuts=[1-9][0-9]* lost=0 torn=0 resurrected=0 init_failures=0$'; then
    echo "FAIL: nvs_powercut $* (exit $rc)"
    fail=1
  fi
}
run --size 0x6000 --ops 2000 --seed 1
run --size 0x6000 --ops 2000 --seed 2 --torn
run --size 0x10000 --ops "$big_ops" --seed 3
run --size 0x10000 --ops "$big_ops" --seed 4 --torn
run --size 0x6000 --ops 2000 --seed 5 --torn --purge
run --size 0x6000 --ops "$enc_ops" --seed 6 --torn --encrypted
exit $fail
