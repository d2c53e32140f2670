#!/usr/bin/env bash
# README command 1: build espforge, then run the main job on examples/smart-plug.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ESPFORGE=$PWD/build/espforge
out=build/smart-plug
mkdir -p "$out"
echo "espforge built: $ESPFORGE"

# --- partition table: CSV -> partition-table.bin (byte-identical to gen_esp32part.py), print, check
echo
echo "== partition table: examples/smart-plug/partitions.csv"
"$ESPFORGE" part gen -q examples/smart-plug/partitions.csv "$out/partition-table.bin"
echo "wrote $out/partition-table.bin ($(wc -c < "$out/partition-table.bin") bytes)"
"$ESPFORGE" part show "$out/partition-table.bin"
"$ESPFORGE" part check "$out/partition-table.bin"
