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
if cmp -s "$out/partition-table.bin" tests/data/partition-real/jumpstart_7_mfg/expected.bin; then
  echo "wrote $out/partition-table.bin ($(wc -c < "$out/partition-table.bin") bytes); the same bytes as gen_esp32part.py"
else
  echo "wrote $out/partition-table.bin, but it differs from gen_esp32part.py's output" >&2; exit 1
fi
"$ESPFORGE" part show "$out/partition-table.bin"
"$ESPFORGE" part check "$out/partition-table.bin"

# --- NVS editing: a fresh 'nvs' partition (0x6000) from a script, one more edit, dump and check
echo
echo "== NVS editing: apply a script to a new nvs partition image, set one key, dump, check"
cat > "$out/nvs-setup.nvs" <<'NVS'
# smart plug settings, as the firmware's NVS API would write them
set smartplug output u8 0
set smartplug name str "Living room plug"
set wifi ssid str MyHomeNetwork
set wifi pass str "correct horse battery"
commit
NVS
"$ESPFORGE" nvs apply "$out/nvs.bin" "$out/nvs-setup.nvs" --new 0x6000 --stats
"$ESPFORGE" nvs set "$out/nvs.bin" smartplug output u8 1
"$ESPFORGE" nvs dump "$out/nvs.bin"
"$ESPFORGE" nvs check "$out/nvs.bin"

# --- NVS reading: the nvs_tool twin, a generator CSV of the image, one value, a damaged copy caught
echo
echo "== NVS reading: nvs_tool twin (-d minimal -i), dump as generator CSV, get, check a damaged copy"
"$ESPFORGE" nvs_tool --color never -d minimal -i "$out/nvs.bin"
"$ESPFORGE" nvs dump "$out/nvs.bin" --format csv -o "$out/nvs-dump.csv"
echo "wrote $out/nvs-dump.csv:"; cat "$out/nvs-dump.csv"
echo "wifi/ssid = $("$ESPFORGE" nvs get "$out/nvs.bin" wifi ssid)"
cp "$out/nvs.bin" "$out/nvs-damaged.bin"
printf '\x00' | dd of="$out/nvs-damaged.bin" bs=1 seek=$((0x48)) conv=notrunc status=none
if "$ESPFORGE" nvs check "$out/nvs-damaged.bin"; then
  echo "damaged copy not detected"; exit 1
else
  echo "(the damaged copy is reported with its page, entry and offset, exit status 1)"
fi

# --- factory data: the smart plug's `fctry` NVS partition from ESP-Jumpstart's mfg_config.csv
#     (device id, certificate and key: sample files in examples/smart-plug/main/cloud_cfg/),
#     plain and encrypted, then dumped and checked
echo
echo "== factory NVS: examples/smart-plug/mfg_config.csv -> fctry partition image (0x6000)"
fsize=$(awk -F, '$1 ~ /^fctry/ { gsub(/ /, "", $5); print $5 }' examples/smart-plug/partitions.csv)
"$ESPFORGE" nvs gen examples/smart-plug/mfg_config.csv "$out/fctry.bin" --size "$fsize" \
    --base-dir examples/smart-plug
echo "wrote $out/fctry.bin ($(wc -c < "$out/fctry.bin") bytes); the same bytes as nvs_partition_gen.py"
"$ESPFORGE" nvs dump "$out/fctry.bin"
"$ESPFORGE" nvs check "$out/fctry.bin"
"$ESPFORGE" nvs keygen "$out/fctry_keys.bin"
"$ESPFORGE" nvs encrypt "$out/fctry.bin" "$out/fctry_enc.bin" --key "$out/fctry_keys.bin"
"$ESPFORGE" nvs check "$out/fctry_enc.bin" --key "$out/fctry_keys.bin"
echo "encrypted: $out/fctry_enc.bin with keys $out/fctry_keys.bin (flash the keys to nvs_keys, encrypted)"
# --- mass production: factory NVS images ('fctry', 0x6000) for 100 smart plugs
echo
echo "== mass production: 100 devices (serial, EC key and certificate made with openssl), espforge mfg gen"
mfg=$out/mfg
rm -rf "$mfg" && mkdir -p "$mfg/certs"
echo "serial_no,cert,priv_key" > "$mfg/values.csv"
for i in $(seq 1 100); do
  sn=$(printf 'SP%06d' "$i")
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/O=Smart Plug Inc./CN=$sn" -keyout "$mfg/certs/$sn.key" -out "$mfg/certs/$sn.crt" 2>/dev/null
  echo "$sn,$mfg/certs/$sn.crt,$mfg/certs/$sn.key" >> "$mfg/values.csv"
done
"$ESPFORGE" mfg gen examples/smart-plug/mfg_gen_config.csv "$mfg/values.csv" plug 0x6000 \
  --fileid serial_no --outdir "$mfg/factory"
echo "manifest ($mfg/factory/manifest.csv), first lines:"
head -4 "$mfg/factory/manifest.csv"
echo "a rerun keeps what the manifest vouches for:"
"$ESPFORGE" mfg gen examples/smart-plug/mfg_gen_config.csv "$mfg/values.csv" plug 0x6000 \
  --fileid serial_no --outdir "$mfg/factory" --json | grep -E '"(devices|written|skipped)"'
echo "one device's image, dumped:"
"$ESPFORGE" nvs dump "$mfg/factory/bin/plug-SP000042.bin" | cut -c1-110 | head -20

# --- NVS runtime on the host: unchanged ESP-IDF firmware code (examples/nvs_factory_reset/main.c)
#     on a smart-plug flash image: reads the factory data, factory-resets the user's settings
echo
echo "== NVS runtime: ESP-IDF firmware code on a flash image (nvs at 0x9000, fctry at 0x340000)"
"$ESPFORGE" nvs set "$out/nvs.bin" user_data schedule str "07:00 on, 23:00 off"
head -c $((0x346000)) /dev/zero | tr '\0' '\377' > "$out/flash.bin"
dd if="$out/nvs.bin" of="$out/flash.bin" bs=4096 seek=$((0x9)) conv=notrunc status=none
dd if="$out/fctry.bin" of="$out/flash.bin" bs=4096 seek=$((0x340)) conv=notrunc status=none
build/nvs_factory_reset "$out/flash.bin"
"$ESPFORGE" nvs check "$out/flash.bin" --offset 0x9000 --size 0x6000
