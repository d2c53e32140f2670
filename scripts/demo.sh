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
