#!/usr/bin/env bash
# Whole-process timing of `espforge nvs_partition_gen generate|encrypt` against the reference
# esp-idf-nvs-partition-gen (when present): 0x6000 with 40 keys and 1 MiB with 5,000 keys, plain
# and encrypted (fixed keys file). Each run is a posix_spawn + wait (bench/spawn_time.c): the
# figure is what a factory script pays per call, process start-up and exit included, with
# nothing subtracted. Prints mean wall and CPU (user + system) time per run, the ratios, and
# whether both tools wrote identical images.
# Usage: bench/nvs_gen_bench.sh [RUNS]   (default 20 runs of espforge, 5 of the reference)
# Env: ESPFORGE (default build/espforge; spawn_time is taken from the same directory),
#      ESF_REF_DIR (directory holding nvsgen/; default ../ref, then /work/ref),
#      PYTHON (default /usr/bin/python3), TMPDIR (where the images are written).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
E=${ESPFORGE:-$root/build/espforge}
runs=${1:-20}
ref_runs=${REF_RUNS:-5}
py=${PYTHON:-/usr/bin/python3}
ref=""
for c in "${ESF_REF_DIR:-}" "$root/../ref" /work/ref; do
    [ -n "$c" ] && [ -f "$c/nvsgen/esp_idf_nvs_partition_gen/nvs_partition_gen.py" ] && { ref=$(cd "$c/nvsgen" && pwd); break; }
done
[ -x "$E" ] || { echo "espforge not built at $E (set ESPFORGE)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root/tests/data/nvs/n21_encrypted_v2/keys.bin" "$tmp/keys.bin"

# CSV with N keys: a mix of integers, strings and hex blobs in namespaces of 100 keys
make_csv() {
    awk -v n="$1" 'BEGIN {
        print "key,type,encoding,value"
        for (i = 0; i < n; i++) {
            if (i % 100 == 0) printf "ns%d,namespace,,\n", i / 100
            t = i % 4
            if (t == 0) printf "u%d,data,u32,%d\n", i, i * 7919
            else if (t == 1) printf "i%d,data,i16,%d\n", i, (i % 60000) - 30000
            else if (t == 2) printf "s%d,data,string,device-%d-serial-%08d-some-text\n", i, i, i * 31
            else { printf "b%d,data,hex2bin,", i; for (k = 0; k < 32; k++) printf "%02x", (i + k * 13) % 256; printf "\n" }
        }
    }' >"$2"
}
make_csv 40 "$tmp/small.csv"
make_csv 5000 "$tmp/large.csv"

spawn=$(dirname "$E")/spawn_time
[ -x "$spawn" ] || { echo "spawn_time not built next to $E"; exit 1; }
# "wall cpu" mean milliseconds per run of `n` runs of the command given
time_ms() {
    local n=$1; shift
    "$spawn" "$n" "$@" | awk '{ printf "%.2f %.2f\n", $1 / 1000, $2 / 1000 }'
}
read -r base_w base_c < <(time_ms "$runs" /bin/true)
echo "for scale: starting and ending /bin/true costs ${base_w} ms wall, ${base_c} ms cpu here (not subtracted)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %21s %21s %15s %s\n' "" "espforge (ms)" "reference (ms)" "ratio" ""
printf '%-26s %10s %10s %10s %10s %7s %7s %s\n' case wall cpu wall cpu wall cpu identical
for cs in "small 0x6000" "large 0x100000"; do
    set -- $cs
    name=$1 size=$2
    for mode in generate encrypt; do
        extra=()
        [ $mode = encrypt ] && extra=(--inputkey keys.bin)
        cd "$tmp"
        read -r we ce < <(time_ms "$runs" "$E" nvs_partition_gen $mode "$name.csv" e.bin "$size" "${extra[@]}")
        label="$mode $name ($(( $size / 1024 ))K)"
        if [ -n "$ref" ]; then
            read -r wr cr < <(PYTHONPATH=$ref time_ms "$ref_runs" "$py" -m esp_idf_nvs_partition_gen $mode "$name.csv" r.bin "$size" "${extra[@]}")
            same=$(cmp -s e.bin r.bin && echo yes || echo NO)
            printf '%-26s %10s %10s %10s %10s %7s %7s %s\n' "$label" "$we" "$ce" "$wr" "$cr" \
                "$(awk -v a="$wr" -v b="$we" 'BEGIN { printf "%.1fx", a / b }')" \
                "$(awk -v a="$cr" -v b="$ce" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')" "$same"
        else
            printf '%-26s %10s %10s %10s %10s %7s %7s %s\n' "$label" "$we" "$ce" - - - - "(reference absent)"
        fi
    done
done
