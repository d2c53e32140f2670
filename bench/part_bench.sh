#!/usr/bin/env bash
# Whole-process time of `espforge gen_esp32part` against the reference gen_esp32part.py on a
# 10-row CSV (process start-up included: this is what a build system pays per call). Two cases:
# rewriting the same output file (a rebuild: espforge then only refreshes the file's time, see
# esf_file_update_atomic) and writing a new file each run (a first build: temporary + rename).
# usage: bench/part_bench.sh [ESPFORGE] [RUNS]   (defaults: build/espforge, 50)
# The reference is $ESF_REF_DIR/esp-idf/components/partition_table/gen_esp32part.py
# (ESF_REF_DIR defaults to ../ref next to the checkout); without it the script prints SKIP.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
E=${1:-$here/build/espforge}
runs=${2:-50}
ref_dir=${ESF_REF_DIR:-$(dirname "$here")/ref}
[ -f "$ref_dir/esp-idf/components/partition_table/gen_esp32part.py" ] || ref_dir=/work/ref
ref=$ref_dir/esp-idf/components/partition_table/gen_esp32part.py
if [ ! -f "$ref" ]; then echo "SKIP: reference gen_esp32part.py not found (set ESF_REF_DIR)"; exit 0; fi
py=/usr/bin/python3; [ -x "$py" ] || py=python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/in.csv" <<'CSV'
# Name,   Type, SubType, Offset,  Size, Flags
nvs,      data, nvs,     ,        0x6000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
ota_0,    app,  ota_0,   ,        1M,
ota_1,    app,  ota_1,   ,        1M,
nvs_key,  data, nvs_keys,,        0x1000, encrypted
coredump, data, coredump,,        64K,
storage,  data, spiffs,  ,        256K,
fctry,    data, nvs,     ,        0x6000,
CSV
"$E" gen_esp32part -q "$tmp/in.csv" "$tmp/ours.bin"
"$py" "$ref" -q "$tmp/in.csv" "$tmp/ref.bin"
cmp "$tmp/ours.bin" "$tmp/ref.bin" || { echo "outputs differ"; exit 1; }
spawn=$(dirname "$E")/spawn_time   # built from bench/spawn_time.c: no shell fork in the figure
time_runs() {  # prints "wall_us cpu_us" per run of "$@"
  local n=$1; shift
  if [ -x "$spawn" ]; then
    "$spawn" "$n" "$@" -q "$tmp/in.csv" "$tmp/out.bin"
  else
    local t0 t1 i
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do "$@" -q "$tmp/in.csv" "$tmp/out.bin"; done
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / n / 1000)) 0"
  fi
}
ours=$(time_runs "$((runs * 5))" "$E" gen_esp32part)
theirs=$(time_runs "$runs" "$py" "$ref")
awk -v o="$ours" -v t="$theirs" -v n="$runs" -v load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)" 'BEGIN {
  split(o, a, " "); split(t, b, " ")
  printf "gen_esp32part, 10-row CSV, whole process (start-up, parse, check, write the file); load %s\n", load
  printf "  espforge gen_esp32part: %7.2f ms wall, %7.2f ms CPU per run (%d runs)\n", a[1] / 1000, a[2] / 1000, n * 5
  printf "  gen_esp32part.py:       %7.2f ms wall, %7.2f ms CPU per run (%d runs)\n", b[1] / 1000, b[2] / 1000, n
  printf "  ratio: espforge is %.1fx faster (wall)", b[1] / a[1]
  if (a[2] > 0) printf ", %.1fx (CPU)", b[2] / a[2]
  printf "\n" }'
fresh() {  # ms per run writing a new output file each time (shell loop for both tools)
  local t0 t1 i
  t0=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" -q "$tmp/in.csv" "$tmp/new_$1_$i.bin"; done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / runs / 1000))
}
fo=$(fresh "$E" gen_esp32part); ft=$(fresh "$py" "$ref")
awk -v o="$fo" -v t="$ft" 'BEGIN {
  printf "  new output file each run: espforge %.2f ms, gen_esp32part.py %.2f ms wall: %.1fx\n", o / 1000, t / 1000, t / o }'
