#!/usr/bin/env bash
# Differential run: espforge's mfg_gen twin and `espforge mfg gen` against ESP-IDF's mfg_gen.py on
# N random devices (bench/mfg_values --tricky), plain and encrypted (--inputkey). Every output
# file must be identical. Skips (exit 0) when the reference is not there.
#
#   bash bench/mfg_diff.sh [N=300] [SEED=1]
# env: ESPFORGE (default build/espforge), MFG_VALUES (default build/mfg_values),
#      ESF_REF_DIR (default ../ref: holds esp-idf/ and nvsgen/), PYTHON (default /usr/bin/python3)
set -u
cd "$(dirname "$0")/.."
N=${1:-300}
SEED=${2:-1}
ESPFORGE=${ESPFORGE:-$PWD/build/espforge}
MFG_VALUES=${MFG_VALUES:-$PWD/build/mfg_values}
REF=${ESF_REF_DIR:-$PWD/../ref}
[ -d "$REF/esp-idf" ] || REF=/work/ref
PY=${PYTHON:-/usr/bin/python3}
MFG=$REF/esp-idf/tools/mass_mfg/mfg_gen.py
if [ ! -f "$MFG" ] || [ ! -d "$REF/nvsgen" ] || ! "$PY" -c 'import cryptography' 2>/dev/null; then
    echo "SKIP: reference mfg_gen.py not found under $REF (set ESF_REF_DIR)"
    exit 0
fi
[ -x "$ESPFORGE" ] && [ -x "$MFG_VALUES" ] || { echo "build first (cmake --build build)"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$MFG_VALUES" "$N" "$SEED" "$W" --tricky || exit 1
"$ESPFORGE" mfg_gen generate-key --keyfile keys.bin --outdir "$W" > /dev/null && cp "$W/keys/keys.bin" "$W/keys.bin" || exit 1
fails=0
run() {  # name args...
    local name=$1; shift
    mkdir -p "$W/$name"
    cp "$W/config.csv" "$W/values.csv" "$W/keys.bin" "$W/$name/"
    (cd "$W/$name" && PYTHONPATH=$REF/nvsgen "$PY" "$MFG" generate config.csv values.csv dev 0x6000 "$@" \
        --outdir ref > ref.txt 2> ref.err; echo $? > ref.rc)
    (cd "$W/$name" && "$ESPFORGE" mfg_gen generate config.csv values.csv dev 0x6000 "$@" \
        --outdir twin > twin.txt 2> twin.err; echo $? > twin.rc)
    local native_args=()
    for a in "$@"; do native_args+=("$a"); done
    (cd "$W/$name" && "$ESPFORGE" mfg gen config.csv values.csv dev 0x6000 "${native_args[@]}" \
        --outdir native -j 2 > native.txt 2>&1; echo $? > native.rc)
    local nref ntwin
    nref=$(ls "$W/$name/ref/bin" 2>/dev/null | wc -l)
    ntwin=$(ls "$W/$name/twin/bin" 2>/dev/null | wc -l)
    local files
    files=$(cd "$W/$name/ref" && find . -type f | wc -l)
    if [ "$(cat "$W/$name/ref.rc")" != 0 ] || [ "$(cat "$W/$name/twin.rc")" != 0 ] || [ "$(cat "$W/$name/native.rc")" != 0 ]; then
        echo "FAIL $name: exit codes ref=$(cat "$W/$name/ref.rc") twin=$(cat "$W/$name/twin.rc") native=$(cat "$W/$name/native.rc")"
        tail -3 "$W/$name/twin.txt" "$W/$name/native.txt"
        fails=$((fails + 1)); return
    fi
    if ! diff -r "$W/$name/ref" "$W/$name/twin" > /dev/null; then
        echo "FAIL $name: twin tree differs"; diff -rq "$W/$name/ref" "$W/$name/twin" | head -5; fails=$((fails + 1)); return
    fi
    if ! diff <(sed "s#ref#X#g" "$W/$name/ref.txt") <(sed "s#twin#X#g" "$W/$name/twin.txt") > /dev/null; then
        echo "FAIL $name: twin stdout differs"; fails=$((fails + 1)); return
    fi
    if ! diff -r "$W/$name/ref/bin" "$W/$name/native/bin" > /dev/null || ! diff -r "$W/$name/ref/csv" "$W/$name/native/csv" > /dev/null; then
        echo "FAIL $name: native bin/ or csv/ differs"; fails=$((fails + 1)); return
    fi
    echo "OK   $name: $nref devices, $files files identical (twin tree + stdout; native bin/ + csv/), twin $ntwin devices"
}
run plain --version 2
run plain_v1 --version 1
run encrypted --inputkey keys.bin
[ $fails = 0 ] && echo "differential: all identical" || { echo "differential: $fails failure(s)"; exit 1; }
