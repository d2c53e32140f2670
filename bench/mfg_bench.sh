#!/usr/bin/env bash
# Mass-production benchmark: N devices x 8 keys (serial string, hex2bin MAC, u8/u16/u32/i32, a
# 64-byte base64 blob, a ~1 KiB certificate string), 0x6000 images, output on tmpfs (/dev/shm).
# Measures devices/s of `espforge mfg gen` (all cores) and of the mfg_gen twin, plain and
# encrypted (--inputkey), against mfg_gen.py when present (run on REFN devices: the reference is
# slow; devices/s are compared), and the floor: only creating and writing the same files (same
# count, same sizes) on the same tmpfs (bench/mfg_floor, 1 thread and all cores).
#
#   bash bench/mfg_bench.sh     env: N=10000 REFN=1000 REPEAT=3 (best of) ESPFORGE MFG_VALUES MFG_FLOOR ESF_REF_DIR
set -u
cd "$(dirname "$0")/.."
N=${N:-10000}
REFN=${REFN:-1000}
REPEAT=${REPEAT:-3}
ESPFORGE=${ESPFORGE:-$PWD/build/espforge}
MFG_VALUES=${MFG_VALUES:-$PWD/build/mfg_values}
MFG_FLOOR=${MFG_FLOOR:-$PWD/build/mfg_floor}
REF=${ESF_REF_DIR:-$PWD/../ref}
[ -d "$REF/esp-idf" ] || REF=/work/ref
PY=${PYTHON:-/usr/bin/python3}
MFG=$REF/esp-idf/tools/mass_mfg/mfg_gen.py
BASE=${BENCH_DIR:-/dev/shm}/esf-mfg-bench.$$
CORES=$(nproc)
ESPFORGE=$(realpath "$ESPFORGE"); MFG_VALUES=$(realpath "$MFG_VALUES"); MFG_FLOOR=$(realpath "$MFG_FLOOR")
for b in "$ESPFORGE" "$MFG_VALUES" "$MFG_FLOOR"; do [ -x "$b" ] || { echo "missing $b: build first"; exit 1; }; done
mkdir -p "$BASE/in" "$BASE/refin"
trap 'rm -rf "$BASE"' EXIT
"$MFG_VALUES" "$N" 7 "$BASE/in"
"$MFG_VALUES" "$REFN" 7 "$BASE/refin"   # the same first REFN devices
"$ESPFORGE" mfg_gen generate-key --keyfile keys.bin --outdir "$BASE/in" > /dev/null
cp "$BASE/in/keys/keys.bin" "$BASE/in/keys.bin"; cp "$BASE/in/keys.bin" "$BASE/refin/keys.bin"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
rate() { echo "scale=0; $1 / $2" | bc -l; }

declare -A R
measure() {  # key devices dir cmd...   (best of REPEAT runs: the machine may be shared)
    local key=$1 n=$2 dir=$3; shift 3
    local t0 t1 best=""
    for _ in $(seq "$REPEAT"); do
        rm -rf "$dir"
        t0=$(now)
        "$@" > /dev/null 2>&1 || { echo "FAILED: $*"; exit 1; }
        t1=$(now)
        local d; d=$(secs "$t0" "$t1")
        if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
        rm -f ./*_tmp*.csv
    done
    R[$key]=$best
    printf '%-28s %6d devices %8.3f s %9.0f devices/s\n' "$key" "$n" "${R[$key]}" "$(echo "$n / ${R[$key]}" | bc -l)"
}

echo "mfg benchmark: $N devices, 0x6000 images, $CORES cores, output in $BASE (tmpfs)"
for mode in plain enc; do
    extra=(); [ $mode = enc ] && extra=(--inputkey keys.bin)
    cd "$BASE/in"
    measure "native-$mode" "$N" "$BASE/native-$mode" "$ESPFORGE" mfg gen config.csv values.csv dev 0x6000 "${extra[@]}" --outdir "$BASE/native-$mode"
    measure "native-$mode-j1" "$N" "$BASE/native1-$mode" "$ESPFORGE" mfg gen config.csv values.csv dev 0x6000 "${extra[@]}" --outdir "$BASE/native1-$mode" -j 1
    measure "twin-$mode" "$N" "$BASE/twin-$mode" "$ESPFORGE" mfg_gen generate config.csv values.csv dev 0x6000 "${extra[@]}" --outdir "$BASE/twin-$mode"
    cmp -s "$BASE/native-$mode/bin/dev-$N.bin" "$BASE/twin-$mode/bin/dev-$N.bin" || { echo "native and twin differ"; exit 1; }
    # floor: the same files (bin/ + csv/) written with nothing else
    for t in 1 "$CORES"; do
        best=""
        for _ in $(seq "$REPEAT"); do
            rm -rf "$BASE/floor"
            o=$("$MFG_FLOOR" "$BASE/native-$mode" "$BASE/floor" "$t")
            d=$(echo "$o" | awk '{print $6}')
            if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; out=$o; fi
        done
        R[floor-$mode-$t]=$best
        printf '%-28s %6d devices %8.3f s %9.0f devices/s  (%s)\n' "floor-$mode-j$t" "$N" "${R[floor-$mode-$t]}" \
            "$(echo "$N / ${R[floor-$mode-$t]}" | bc -l)" "$out"
    done
    if [ -f "$MFG" ] && [ -d "$REF/nvsgen" ]; then
        cd "$BASE/refin"
        measure "ref-$mode" "$REFN" "$BASE/ref-$mode" env PYTHONPATH="$REF/nvsgen" "$PY" "$MFG" generate config.csv values.csv dev 0x6000 "${extra[@]}" --outdir "$BASE/ref-$mode"
        for i in 1 "$REFN"; do
            cmp -s "$BASE/ref-$mode/bin/dev-$i.bin" "$BASE/native-$mode/bin/dev-$i.bin" || { echo "reference and espforge differ on dev-$i"; exit 1; }
        done
        rm -f "$BASE/refin/"*_tmp*.csv
    fi
done
echo
echo "ratios (devices/s):"
for mode in plain enc; do
    nat=$(echo "$N / ${R[native-$mode]}" | bc -l)
    twin=$(echo "$N / ${R[twin-$mode]}" | bc -l)
    f1=$(echo "$N / ${R[floor-$mode-1]}" | bc -l)
    fj=$(echo "$N / ${R[floor-$mode-$CORES]}" | bc -l)
    printf '  %-5s native/floor(1 thread) time ratio %.2f, native/floor(%d threads) %.2f\n' "$mode" \
        "$(echo "${R[native-$mode]} / ${R[floor-$mode-1]}" | bc -l)" "$CORES" "$(echo "${R[native-$mode]} / ${R[floor-$mode-$CORES]}" | bc -l)"
    if [ -n "${R[ref-$mode]:-}" ]; then
        ref=$(echo "$REFN / ${R[ref-$mode]}" | bc -l)
        printf '  %-5s native %.0f/s, twin %.0f/s, reference %.0f/s (on %d devices): native %.1fx, twin %.1fx faster\n' \
            "$mode" "$nat" "$twin" "$ref" "$REFN" "$(echo "$nat / $ref" | bc -l)" "$(echo "$twin / $ref" | bc -l)"
    else
        printf '  %-5s native %.0f/s, twin %.0f/s (reference not found)\n' "$mode" "$nat" "$twin"
    fi
done
