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

declare -A R C
measure() {  # key devices dir cmd...   (best of REPEAT runs: the machine may be shared)
    local key=$1 n=$2 dir=$3; shift 3
    local best="" bestcpu=""
    for _ in $(seq "$REPEAT"); do
        rm -rf "$dir"
        /usr/bin/time -f "%e %U %S" -o "$BASE/time.txt" "$@" > /dev/null 2>&1 || { echo "FAILED: $*"; exit 1; }
        local d cpu
        read -r d u s < "$BASE/time.txt"
        cpu=$(echo "$u + $s" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
        if [ -z "$bestcpu" ] || [ "$(echo "$cpu < $bestcpu" | bc -l)" = 1 ]; then bestcpu=$cpu; fi
        rm -f ./*_tmp*.csv
    done
    R[$key]=$best
    C[$key]=$bestcpu
    printf '%-22s %6d devices %7.3f s wall %9.0f devices/s | %7.3f s CPU %9.0f devices/CPU-s\n' "$key" "$n" \
        "$best" "$(echo "$n / $best" | bc -l)" "$bestcpu" "$(echo "$n / $bestcpu" | bc -l)"
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
        bestcpu=""
        for _ in $(seq "$REPEAT"); do
            rm -rf "$BASE/floor"
            o=$(/usr/bin/time -f "%U %S" -o "$BASE/time.txt" "$MFG_FLOOR" "$BASE/native-$mode" "$BASE/floor" "$t")
            d=$(echo "$o" | awk '{print $6}')
            read -r u s < "$BASE/time.txt"
            cpu=$(echo "$u + $s" | bc -l)
            if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; out=$o; fi
            if [ -z "$bestcpu" ] || [ "$(echo "$cpu < $bestcpu" | bc -l)" = 1 ]; then bestcpu=$cpu; fi
        done
        R[floor-$mode-$t]=$best
        C[floor-$mode-$t]=$bestcpu
        printf '%-22s %6d devices %7.3f s wall %9.0f devices/s | %7.3f s CPU (%s)\n' "floor-$mode-j$t" "$N" \
            "$best" "$(echo "$N / $best" | bc -l)" "$bestcpu" "$out"
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
echo "ratios (wall = best devices/s; CPU = devices per CPU-second, steadier on a shared machine):"
for mode in plain enc; do
    printf '  %-5s espforge mfg gen vs floor: wall %.2fx the 1-thread floor, %.2fx the %d-thread floor; CPU %.2fx the floor\n' \
        "$mode" "$(echo "${R[native-$mode]} / ${R[floor-$mode-1]}" | bc -l)" \
        "$(echo "${R[native-$mode]} / ${R[floor-$mode-$CORES]}" | bc -l)" "$CORES" \
        "$(echo "${C[native-$mode]} / ${C[floor-$mode-1]}" | bc -l)"
    if [ -n "${R[ref-$mode]:-}" ]; then
        printf '  %-5s vs mfg_gen.py (%d devices): native %.1fx wall / %.1fx CPU, twin %.1fx wall / %.1fx CPU\n' "$mode" "$REFN" \
            "$(echo "($N / ${R[native-$mode]}) / ($REFN / ${R[ref-$mode]})" | bc -l)" \
            "$(echo "($N / ${C[native-$mode]}) / ($REFN / ${C[ref-$mode]})" | bc -l)" \
            "$(echo "($N / ${R[twin-$mode]}) / ($REFN / ${R[ref-$mode]})" | bc -l)" \
            "$(echo "($N / ${C[twin-$mode]}) / ($REFN / ${C[ref-$mode]})" | bc -l)"
    fi
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $CORES cores"
