#!/usr/bin/env bash
# espforge nvs dump / check / get on generator vectors, damaged images, an encrypted image and an
# NVS partition inside a whole flash image (--offset/--size and --partition LABEL).
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
E=$ESPFORGE; D=$ESF_DATA/nvs; C=$ESF_DATA/nvs-tool/corrupt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { local want=$1; shift; "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  [ $rc = "$want" ] || fail "exit $rc (want $want): $* -- $(head -3 "$tmp/err")"; }
has() { grep -qF -- "$1" "$2" || fail "'$1' not in $2: $(head -5 "$2")"; }

# get: integers at their extremes, strings, blobs (bytes to a file with -o)
expect_rc 0 "$E" nvs get "$D/n01_primitives_v2/expected.bin" prims u64_max
[ "$(cat "$tmp/out")" = 18446744073709551615 ] || fail "u64_max: $(cat "$tmp/out")"
expect_rc 0 "$E" nvs get "$D/n01_primitives_v2/expected.bin" prims i64_min
[ "$(cat "$tmp/out")" = -9223372036854775808 ] || fail "i64_min: $(cat "$tmp/out")"
expect_rc 0 "$E" nvs get "$D/n12_namespaces/expected.bin" beta b2
[ "$(cat "$tmp/out")" = bee ] || fail "beta b2: $(cat "$tmp/out")"
expect_rc 0 "$E" nvs get "$D/n07_multipage_blob_v2/expected.bin" ns big -o "$tmp/big.bin"
cmp -s "$tmp/big.bin" "$D/n07_multipage_blob_v2/big.bin" || fail "multi-page blob bytes differ"
expect_rc 0 "$E" nvs get "$D/n08_blobs_v1/expected.bin" --output "$tmp/max.bin" ns maxblob
cmp -s "$tmp/max.bin" "$D/n08_blobs_v1/max.bin" || fail "v1 blob bytes differ"
expect_rc 1 "$E" nvs get "$D/n12_namespaces/expected.bin" beta nope
has "key 'nope' not found in namespace 'beta'" "$tmp/err"

# dump: text, json, csv
expect_rc 0 "$E" nvs dump "$D/n12_namespaces/expected.bin"
has 'b2              string  "bee"' "$tmp/out"
has 'ns_15_chars_xyz (namespace 4)' "$tmp/out"
expect_rc 0 "$E" nvs dump --json "$D/n12_namespaces/expected.bin"
has '"key": "g1", "type": "i32", "value": -3' "$tmp/out"
expect_rc 0 "$E" nvs dump --format csv "$D/n12_namespaces/expected.bin" -o "$tmp/n12.csv"
has 'gamma,namespace,,' "$tmp/n12.csv"
has 'b3,data,u16,5' "$tmp/n12.csv"
expect_rc 2 "$E" nvs dump --format xml "$D/n12_namespaces/expected.bin"

# check: every generator vector passes, damaged ones fail with the place named
for img in "$D"/n*/expected.bin; do
  case $img in *encrypted*) continue ;; esac
  expect_rc 0 "$E" nvs check "$img"
done
for img in "$ESF_DATA"/nvs-real/*/expected.bin "$ESF_DATA"/nvs-real/*/expected_v1.bin \
           "$ESF_DATA"/nvs-real/mass_mfg/devices/*.bin; do
  expect_rc 0 "$E" nvs check "$img"
done
expect_rc 0 "$E" nvs check "$D/n21_encrypted_v2/expected.bin" --key "$D/n21_encrypted_v2/keys.bin"
expect_rc 1 "$E" nvs check "$D/n21_encrypted_v2/expected.bin"
expect_rc 1 "$E" nvs check "$C/c01_entry_crc.bin"
has 'page 0 entry 1 (offset 0x60): error: item' "$tmp/out"
has '[entry-crc]' "$tmp/out"
expect_rc 1 "$E" nvs check "$C/c02_header_crc.bin"
has 'page 0 (offset 0x0): error: page header CRC' "$tmp/out"
expect_rc 1 "$E" nvs check "$C/c03_orphan_chunks.bin"
has '[blob-orphan-chunk]' "$tmp/out"
expect_rc 0 "$E" nvs check "$C/c04_duplicate_key.bin"
has 'page 0 entry 1 (offset 0x60): warning: key' "$tmp/out"
expect_rc 1 "$E" nvs check --strict "$C/c04_duplicate_key.bin"
expect_rc 1 "$E" nvs check "$C/c08_missing_chunk.bin"
has '[blob-missing-chunk]' "$tmp/out"
expect_rc 0 "$E" nvs check "$C/c18_stale_blob_version.bin"
has '[blob-stale-chunk]' "$tmp/out"
expect_rc 1 "$E" nvs check --json "$C/c07_data_crc.bin"
has '"rule": "data-crc", "severity": "error", "reference": true' "$tmp/out"

# encrypted image with its keys file
expect_rc 0 "$E" nvs get --key "$D/n21_encrypted_v2/keys.bin" "$D/n21_encrypted_v2/expected.bin" files fstr
has 'hello file' "$tmp/out"

# inside a whole flash image: table at 0x8000, NVS at 0x9000
printf '# Name,Type,SubType,Offset,Size,Flags\nnvs,data,nvs,0x9000,0x3000,\nphy_init,data,phy,0xf000,0x1000,\nfactory,app,factory,0x10000,1M,\n' > "$tmp/parts.csv"
expect_rc 0 "$E" part gen "$tmp/parts.csv" "$tmp/parts.bin"
head -c $((0x110000)) /dev/zero | tr '\0' '\377' > "$tmp/flash.bin"
dd if="$tmp/parts.bin" of="$tmp/flash.bin" bs=1 seek=$((0x8000)) conv=notrunc status=none
dd if="$C/c01_entry_crc.bin" of="$tmp/flash.bin" bs=1 seek=$((0x9000)) conv=notrunc status=none
"$E" nvs dump "$C/c01_entry_crc.bin" > "$tmp/alone.txt"
expect_rc 0 "$E" nvs dump "$tmp/flash.bin" --partition nvs
cmp -s "$tmp/out" "$tmp/alone.txt" || fail "dump --partition differs from the stand-alone image"
expect_rc 0 "$E" nvs dump "$tmp/flash.bin" --offset 0x9000 --size 0x3000
cmp -s "$tmp/out" "$tmp/alone.txt" || fail "dump --offset/--size differs"
expect_rc 1 "$E" nvs check "$tmp/flash.bin" --partition nvs
has 'page 0 entry 1 (offset 0x9060): error' "$tmp/out"
expect_rc 0 "$E" nvs get "$tmp/flash.bin" --partition=nvs beta b2
expect_rc 1 "$E" nvs dump "$tmp/flash.bin" --partition factory
has "not an NVS partition" "$tmp/err"
expect_rc 1 "$E" nvs dump "$tmp/flash.bin" --partition nope
has "no partition labelled 'nope'" "$tmp/err"
expect_rc 1 "$E" nvs dump "$tmp/flash.bin" --offset 0x100000 --size 0x20000
has "outside" "$tmp/err"

# diff: same values (v1 vs v2 image of one CSV) exit 0; changed / missing keys exit 1
expect_rc 0 "$E" nvs diff "$D/n01_primitives_v2/expected.bin" "$D/n02_primitives_v1/expected.bin"
[ -s "$tmp/out" ] && fail "diff of equal images printed: $(cat "$tmp/out")"
expect_rc 1 "$E" nvs diff "$D/n01_primitives_v2/expected.bin" "$C/c05_erased_update.bin"
has '~ prims:u8_min u8 0 -> u8 66' "$tmp/out"
has '- prims:u8_max u8 255' "$tmp/out"
# --key applies to both images: the plain one then reads as damaged (no values)
expect_rc 1 "$E" nvs diff "$D/n21_encrypted_v2/expected.bin" "$D/n21_encrypted_v2/expected_plain.bin" \
  --key "$D/n21_encrypted_v2/keys.bin"
has '- files:fstr string "hello file' "$tmp/out"
expect_rc 2 "$E" nvs diff "$D/n01_primitives_v2/expected.bin" "$tmp/missing.bin"

# a runtime-written image whose namespace entries were moved by GC behind their items: check is
# clean, and its CSV dump regenerates (native nvs gen) the same values
R=$ESF_DATA/nvs-read/runtime_ns_after_items.bin
expect_rc 0 "$E" nvs check --strict "$R"
expect_rc 0 "$E" nvs dump "$R" --format csv -o "$tmp/rt.csv"
has 'regenerate with: espforge nvs gen' "$tmp/rt.csv"
expect_rc 0 "$E" nvs gen "$tmp/rt.csv" "$tmp/rt.bin" --size 0x8000
expect_rc 0 "$E" nvs diff "$R" "$tmp/rt.bin"

# bad input: unaligned image, missing file; no partial output file
head -c 5000 "$D/n12_namespaces/expected.bin" > "$tmp/short.bin"
expect_rc 1 "$E" nvs dump "$tmp/short.bin" -o "$tmp/never.txt"
has "5000 % 4096 = 904" "$tmp/err"
[ ! -e "$tmp/never.txt" ] || fail "partial output left"
expect_rc 1 "$E" nvs check "$tmp/missing.bin"
expect_rc 2 "$E" nvs get "$D/n12_namespaces/expected.bin" beta
expect_rc 2 "$E" nvs check "$D/n12_namespaces/expected.bin" --bogus

[ $fails = 0 ] && echo "nvs dump/check/get: all checks passed"
[ $fails = 0 ]
