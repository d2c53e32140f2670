#!/usr/bin/env bash
# examples/nvs_factory_reset: unchanged ESP-IDF NVS firmware code on the host against a flash image
# laid out like examples/smart-plug/partitions.csv (nvs at 0x9000, fctry at 0x340000).
set -u
ex="$ESF_BIN_DIR/nvs_factory_reset"
[ -x "$ex" ] || { echo "FAIL: $ex not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp" || exit 1

printf 'device certificate bytes \001\002\003' > cert.bin
cat > fctry.csv <<'CSV'
key,type,encoding,value
mfg_ns,namespace,,
serial_no,data,string,SN-0001
cert,file,binary,cert.bin
batch,data,u32,42
CSV
cat > nvs.csv <<'CSV'
key,type,encoding,value
user_data,namespace,,
wifi_ssid,data,string,home
wifi_pass,data,string,secret
brightness,data,u8,80
app,namespace,,
boot_count,data,u32,7
CSV
"$ESPFORGE" nvs gen fctry.csv fctry.bin --size 0x6000 || fail "nvs gen fctry"
"$ESPFORGE" nvs gen nvs.csv nvs.bin --size 0x6000 || fail "nvs gen nvs"
head -c $((0x346000)) /dev/zero | tr '\0' '\377' > flash.bin
dd if=nvs.bin of=flash.bin bs=4096 seek=$((0x9)) conv=notrunc status=none
dd if=fctry.bin of=flash.bin bs=4096 seek=$((0x340)) conv=notrunc status=none
cp flash.bin orig.bin

out=$("$ex" flash.bin) || fail "first run exited $?: $out"
echo "$out"
grep -qx 'mfg serial_no = "SN-0001"' <<<"$out" || fail "serial number not read"
grep -q '^mfg cert = blob of 28 bytes: 64 65 76' <<<"$out" || fail "certificate blob not read"
grep -qx 'mfg batch = 42' <<<"$out" || fail "batch not read"
grep -qx 'factory reset: user_data 5 -> 0 entries' <<<"$out" || fail "user_data not erased"
grep -qx 'nvs: 3 used, 753 free, 2 namespaces' <<<"$out" || fail "stats after reset"

# only the nvs partition changed; fctry (read only) and everything else kept their bytes
cmp -n $((0x9000)) orig.bin flash.bin || fail "bytes before nvs changed"
cmp -i $((0xF000)) -n $((0x346000 - 0xF000)) orig.bin flash.bin || fail "bytes after nvs changed"
cmp -s -i $((0x9000)) -n $((0x6000)) orig.bin flash.bin && fail "nvs partition not written"

"$ESPFORGE" nvs check flash.bin --offset 0x9000 --size 0x6000 >check.txt 2>&1 ||
  { cat check.txt; fail "the runtime-written nvs partition does not pass nvs check"; }

out=$("$ex" flash.bin) || fail "second run exited $?: $out"
grep -qx 'factory reset: user_data 0 -> 0 entries' <<<"$out" || fail "second run: $out"
grep -qx 'mfg serial_no = "SN-0001"' <<<"$out" || fail "second run lost the mfg data"
"$ex" missing.bin >/dev/null 2>&1 && fail "missing image accepted"
echo "nvs_factory_reset: ok"
