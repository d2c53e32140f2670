#!/usr/bin/env bash
# NVS generator commands against the golden vectors (tests/data/nvs, nvs-invalid), the real
# ESP-IDF CSVs (tests/data/nvs-real) and the reference's command-line rules:
#  - drop-in twin `espforge nvs_partition_gen` (and the `nvs_partition_gen` symlink): every
#    vector reproduced byte for byte, every invalid vector refused with the reference's status
#    (and for InputErrors its stdout text) and NO output file;
#  - native `espforge nvs gen|keygen|encrypt|decrypt`.
# Env (set by CTest): ESPFORGE, ESF_DATA, ESF_BIN_DIR.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
E=$ESPFORGE
fails=0
pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# fresh copy of a vector directory
case_dir() {
    local d="$tmp/$1"
    rm -rf "$d"
    mkdir -p "$d"
    cp -r "$2/." "$d/"
    chmod -R u+w "$d"
    echo "$d"
}

# ---- valid vectors: case | twin arguments (run inside the case directory)
while IFS='|' read -r name args; do
    [ -n "$name" ] || continue
    src="$ESF_DATA/nvs/$name"
    d=$(case_dir "$name" "$src")
    rm -f "$d/expected.bin" "$d/expected_plain.bin"
    # shellcheck disable=SC2086
    (cd "$d" && "$E" nvs_partition_gen $args >out.txt 2>err.txt)
    rc=$?
    if [ $rc -ne 0 ]; then bad "$name: exit $rc: $(cat "$d/err.txt")"; continue; fi
    if cmp -s "$d/expected.bin" "$src/expected.bin"; then ok; else bad "$name: image differs"; fi
    grep -q "Created NVS binary: ===> $d/expected.bin" "$d/out.txt" || bad "$name: no 'Created NVS binary' line"
done <<'EOF'
n01_primitives_v2|generate input.csv expected.bin 0x3000 --version 2
n02_primitives_v1|generate input.csv expected.bin 0x3000 --version 1
n03_strings_v2|generate input.csv expected.bin 0x3000 --version 2
n04_string_max_v1|generate input.csv expected.bin 0x3000 --version 1
n05_string_max_v2|generate input.csv expected.bin 0x4000 --version 2
n06_blobs_inline_v2|generate input.csv expected.bin 0x3000 --version 2
n07_multipage_blob_v2|generate input.csv expected.bin 0x8000 --version 2
n08_blobs_v1|generate input.csv expected.bin 0x4000 --version 1
n09_file_types_v2|generate input.csv expected.bin 0x4000 --version 2
n10_idf_sample_multipage_v2|generate input.csv expected.bin 0x4000 --version 2
n11_idf_sample_singlepage_v1|generate input.csv expected.bin 0x4000 --version 1
n12_namespaces|generate input.csv expected.bin 0x3000 --version 2
n13_page_boundaries_v2|generate input.csv expected.bin 0x6000 --version 2
n14_readonly_0x1000|generate input.csv expected.bin 0x1000 --version 2
n15_readonly_0x2000|generate input.csv expected.bin 0x2000 --version 2
n16_blob_fill_v2|generate input.csv expected.bin 0x3000 --version 2
n17_wifi_keys_v2|generate input.csv expected.bin 0x3000 --version 2
n18_quirks_v2|generate input.csv expected.bin 0x3000 --version 2
n19_random_large_v2|generate input.csv expected.bin 0x7000 --version 2
n20_random_v1|generate input.csv expected.bin 28672 --version 1
n21_encrypted_v2|encrypt input.csv expected.bin 0x4000 --inputkey keys.bin
EOF

# ---- n21: plain twin, decrypt (twin and native), native encrypt
src="$ESF_DATA/nvs/n21_encrypted_v2"
d=$(case_dir n21b "$src")
(cd "$d" && "$E" nvs_partition_gen generate input.csv plain.bin 0x4000 >/dev/null) &&
    cmp -s "$d/plain.bin" "$src/expected_plain.bin" && ok || bad "n21: plain image"
(cd "$d" && "$E" nvs_partition_gen decrypt expected.bin keys.bin dec.bin >out.txt) &&
    cmp -s "$d/dec.bin" "$src/expected_plain.bin" && ok || bad "n21: twin decrypt"
grep -q "Created NVS decrypted binary: ===> $d/dec.bin" "$d/out.txt" && ok || bad "n21: decrypt message"
"$E" nvs decrypt "$src/expected.bin" "$d/dec2.bin" --key "$src/keys.bin" &&
    cmp -s "$d/dec2.bin" "$src/expected_plain.bin" && ok || bad "n21: native decrypt"
"$E" nvs encrypt "$src/expected_plain.bin" "$d/enc2.bin" --key "$src/keys.bin" &&
    cmp -s "$d/enc2.bin" "$src/expected.bin" && ok || bad "n21: native encrypt"
"$E" nvs gen "$src/input.csv" "$d/enc3.bin" --size 16K --key "$src/keys.bin" 2>/dev/null
(cd "$d" && "$E" nvs gen input.csv enc3.bin --size 16K --key keys.bin) &&
    cmp -s "$d/enc3.bin" "$src/expected.bin" && ok || bad "n21: native gen --key"
head -c 64 "$src/keys.bin" >"$d/bare.bin"
"$E" nvs decrypt "$src/expected.bin" "$d/dec3.bin" --key "$d/bare.bin" &&
    cmp -s "$d/dec3.bin" "$src/expected_plain.bin" && ok || bad "bare 64-byte key accepted"
# the symlink name runs the twin
if [ -n "${ESF_BIN_DIR:-}" ] && [ -x "$ESF_BIN_DIR/nvs_partition_gen" ]; then
    (cd "$d" && "$ESF_BIN_DIR/nvs_partition_gen" encrypt input.csv viasym.bin 0x4000 --inputkey keys.bin >/dev/null) &&
        cmp -s "$d/viasym.bin" "$src/expected.bin" && ok || bad "symlink nvs_partition_gen"
fi

# ---- encrypted image inside a whole flash image: --offset/--size
img="$tmp/flash.bin"
head -c 65536 /dev/zero | tr '\0' '\377' >"$img"
dd if="$src/expected_plain.bin" of="$img" bs=4096 seek=9 conv=notrunc 2>/dev/null
"$E" nvs encrypt "$img" "$tmp/flash_enc.bin" --key "$src/keys.bin" --offset 0x9000 --size 0x4000 &&
    dd if="$tmp/flash_enc.bin" bs=4096 skip=9 count=4 2>/dev/null | cmp -s - "$src/expected.bin" && ok ||
    bad "encrypt at --offset 0x9000"
cmp -s <(head -c 36864 "$img") <(head -c 36864 "$tmp/flash_enc.bin") && ok || bad "bytes before the NVS region changed"
"$E" nvs decrypt "$tmp/flash_enc.bin" "$tmp/flash_dec.bin" --key "$src/keys.bin" --offset 0x9000 --size 16K &&
    cmp -s "$tmp/flash_dec.bin" "$img" && ok || bad "decrypt at --offset"

# ---- --partition LABEL: the smart-plug table at 0x8000 of a 4 MiB flash image, fctry at 0x340000
if [ -n "${ESF_SRC:-}" ] && "$E" part gen -q "$ESF_SRC/examples/smart-plug/partitions.csv" "$tmp/pt.bin" 2>/dev/null; then
    fl="$tmp/flash4m.bin"
    head -c 4194304 /dev/zero | tr '\0' '\377' >"$fl"
    dd if="$tmp/pt.bin" of="$fl" bs=4096 seek=8 conv=notrunc 2>/dev/null
    dd if="$src/expected_plain.bin" of="$fl" bs=4096 seek=$((0x340)) conv=notrunc 2>/dev/null
    "$E" nvs encrypt "$fl" "$tmp/fl_enc.bin" --key "$src/keys.bin" --partition fctry &&
        dd if="$tmp/fl_enc.bin" bs=4096 skip=$((0x340)) count=4 2>/dev/null | cmp -s - "$src/expected.bin" &&
        cmp -s <(head -c $((0x340000)) "$fl") <(head -c $((0x340000)) "$tmp/fl_enc.bin") && ok ||
        bad "encrypt --partition fctry"
    "$E" nvs decrypt "$tmp/fl_enc.bin" "$tmp/fl_dec.bin" --key "$src/keys.bin" --partition fctry &&
        cmp -s "$tmp/fl_dec.bin" "$fl" && ok || bad "decrypt --partition fctry"
    "$E" nvs encrypt "$fl" "$tmp/x.bin" --key "$src/keys.bin" --partition ota_0 2>"$tmp/e.txt"
    [ $? = 1 ] && grep -q "not an NVS partition" "$tmp/e.txt" && [ ! -e "$tmp/x.bin" ] && ok ||
        bad "--partition of an app slot refused"
    "$E" nvs encrypt "$fl" "$tmp/x.bin" --key "$src/keys.bin" --partition nope 2>"$tmp/e.txt"
    [ $? = 1 ] && grep -q "no partition 'nope'" "$tmp/e.txt" && ok || bad "--partition unknown label"
fi

# ---- key files
src="$ESF_DATA/nvs/n22_generate_key_hmac"
d=$(case_dir n22 "$src")
(cd "$d" && "$E" nvs_partition_gen generate-key --key_protect_hmac --kp_hmac_inputkey hmac_key.bin \
    --keyfile expected_keys.bin --outdir out >out.txt) &&
    cmp -s "$d/out/keys/expected_keys.bin" "$src/expected_keys.bin" && ok || bad "n22: HMAC keys file"
grep -q "Created encryption keys: ===>  out/keys/expected_keys.bin" "$d/out.txt" && ok || bad "n22: message"
"$E" nvs keygen "$d/k.bin" --hmac-key "$src/hmac_key.bin" && cmp -s "$d/k.bin" "$src/expected_keys.bin" && ok ||
    bad "native keygen --hmac-key"
# ESP-IDF's own HMAC test data (sample_hmac_key.bin -> sample_encryption_keys_hmac.bin)
m="$ESF_DATA/nvs-real/mass_mfg"
"$E" nvs keygen "$d/k2.bin" --hmac-key "$m/sample_hmac_key.bin" &&
    cmp -s "$d/k2.bin" "$m/sample_encryption_keys_hmac.bin" && ok || bad "ESP-IDF HMAC key vector"
# random keys: format of n23 (4096 bytes, CRC valid -> accepted by --key), default name keys-*.bin
(cd "$d" && "$E" nvs_partition_gen generate-key --outdir o2 >/dev/null)
kf=$(ls "$d"/o2/keys/keys-*.bin 2>/dev/null | head -1)
[ -n "$kf" ] && [ "$(wc -c <"$kf")" = 4096 ] && ok || bad "generate-key default name/size"
[ -n "$kf" ] && "$E" nvs encrypt "$ESF_DATA/nvs/n01_primitives_v2/expected.bin" "$d/e.bin" --key "$kf" && ok ||
    bad "generated keys file has a valid CRC"
"$E" nvs encrypt "$ESF_DATA/nvs/n01_primitives_v2/expected.bin" "$d/e2.bin" \
    --key "$ESF_DATA/nvs/n23_generate_key_format_example/example_keys.bin" && ok || bad "n23 keys file accepted"
"$E" nvs keygen "$d/r1.bin" && "$E" nvs keygen "$d/r2.bin" && ! cmp -s "$d/r1.bin" "$d/r2.bin" && ok ||
    bad "native keygen gives fresh keys"
(cd "$d" && "$E" nvs_partition_gen encrypt "$ESF_DATA/nvs/n01_primitives_v2/input.csv" kg.bin 0x3000 --keygen \
    --keyfile mine.bin >/dev/null) && [ -f "$d/keys/mine.bin" ] &&
    "$E" nvs decrypt "$d/kg.bin" "$d/kgd.bin" --key "$d/keys/mine.bin" &&
    cmp -s "$d/kgd.bin" "$ESF_DATA/nvs/n01_primitives_v2/expected.bin" && ok || bad "encrypt --keygen round trip"
# corrupt keys file refused natively (CRC), with the offset
cp "$src/expected_keys.bin" "$d/badk.bin"
printf '\x00' | dd of="$d/badk.bin" bs=1 seek=3 conv=notrunc 2>/dev/null
"$E" nvs decrypt "$ESF_DATA/nvs/n21_encrypted_v2/expected.bin" "$d/x.bin" --key "$d/badk.bin" 2>"$d/e.txt"
[ $? = 1 ] && grep -q "offset 0x40" "$d/e.txt" && [ ! -e "$d/x.bin" ] && ok || bad "bad keys CRC: $(cat "$d/e.txt")"

# ---- invalid vectors: case | exit | twin arguments
while IFS='|' read -r name want args; do
    [ -n "$name" ] || continue
    src="$ESF_DATA/nvs-invalid/$name"
    d=$(case_dir "$name" "$src")
    # shellcheck disable=SC2086
    (cd "$d" && "$E" nvs_partition_gen $args >out.txt 2>err.txt)
    rc=$?
    [ "$rc" = "$want" ] || { bad "$name: exit $rc, want $want"; continue; }
    [ -e "$d/expected.bin" ] && bad "$name: output file left behind"
    if [ "$want" = 254 ] || [ "$name" = ni05_size_not_multiple ] || [ "$name" = ni10_size_not_a_number ]; then
        if diff <(grep -v '^$' "$src/expected_error.txt") <(cat "$d/out.txt" "$d/err.txt" | grep -v '^$' | grep -v '^error: ') >/dev/null; then
            ok
        else
            bad "$name: messages differ: $(cat "$d/out.txt" "$d/err.txt")"
        fi
    else
        # traceback cases: the same final message text, with file:line:column
        msg=$(sed -n 's/^\[Python traceback\] [^:]*: *//p' "$src/expected_error.txt" | tail -1)
        [ -n "$msg" ] || msg="PageFullError"
        grep -qF -- "$msg" "$d/err.txt" && grep -q '^error: input.csv:[0-9]*:[0-9]*: ' "$d/err.txt" && ok ||
            bad "$name: stderr lacks '$msg' with a place: $(cat "$d/err.txt")"
    fi
done <<'EOF'
ni01_key_too_long|254|generate input.csv expected.bin 0x3000 --version 2
ni02_unsupported_encoding|254|generate input.csv expected.bin 0x3000 --version 2
ni03_string_too_long_v1|254|generate input.csv expected.bin 0x3000 --version 1
ni04_hex_odd_length|254|generate input.csv expected.bin 0x3000 --version 2
ni05_size_not_multiple|1|generate input.csv expected.bin 0x3800 --version 2
ni06_partition_too_small|1|generate input.csv expected.bin 0x3000 --version 2
ni07_int_out_of_range|1|generate input.csv expected.bin 0x3000 --version 2
ni08_string_page_overflow_v2|1|generate input.csv expected.bin 0x4000 --version 2
ni09_hex_non_hex|1|generate input.csv expected.bin 0x3000 --version 2
ni10_size_not_a_number|0|generate input.csv expected.bin abc --version 2
EOF

# ---- real ESP-IDF CSVs (expectations made with the reference, see tests/data/README.md)
r="$ESF_DATA/nvs-real"
for n in nvsgen_nvs_data nvs_bootloader_nvs_data wifi_nvs_config_nvs_station_data; do
    d=$(case_dir "real_$n" "$r/$n")
    (cd "$d" && "$E" nvs_partition_gen generate input.csv a.bin 0x6000 >/dev/null &&
        "$E" nvs_partition_gen generate input.csv b.bin 0x6000 --version 1 >/dev/null) &&
        cmp -s "$d/a.bin" "$r/$n/expected.bin" && cmp -s "$d/b.bin" "$r/$n/expected_v1.bin" && ok ||
        bad "real $n"
    (cd "$d" && "$E" nvs gen input.csv c.bin --size 24K --no-wifi-extras 2>/dev/null) || true
done
d=$(case_dir real_boot_enc "$r/nvs_bootloader_nvs_data")
(cd "$d" && "$E" nvs_partition_gen encrypt input.csv e.bin 0x6000 --inputkey keys.bin >/dev/null) &&
    cmp -s "$d/e.bin" "$r/nvs_bootloader_nvs_data/expected_enc.bin" && ok || bad "real nvs_bootloader encrypted"
d=$(case_dir mass_mfg "$r/mass_mfg")
for f in "$d"/devices/*.csv; do
    b=$(basename "$f" .csv)
    case $b in single*) v=1 s=0x3000 ;; *) v=2 s=0x4000 ;; esac
    (cd "$d" && "$E" nvs_partition_gen generate "devices/$b.csv" "o_$b.bin" $s --version $v >/dev/null) &&
        cmp -s "$d/o_$b.bin" "$d/devices/$b.bin" && ok || bad "mass_mfg device $b"
done
(cd "$d" && "$E" nvs_partition_gen encrypt devices/multi-1.csv enc.bin 0x4000 --inputkey sample_encryption_keys.bin >/dev/null) &&
    cmp -s "$d/enc.bin" "$d/expected_multi-1_enc.bin" && ok || bad "mass_mfg encrypted device"

# the smart-plug factory data of scripts/demo.sh (examples/smart-plug, sample device files)
if [ -n "${ESF_SRC:-}" ] && [ -f "$ESF_SRC/examples/smart-plug/mfg_config.csv" ]; then
    "$E" nvs gen "$ESF_SRC/examples/smart-plug/mfg_config.csv" "$tmp/fctry.bin" --size 0x6000 \
        --base-dir "$ESF_SRC/examples/smart-plug" && cmp -s "$tmp/fctry.bin" "$r/smart-plug-fctry/expected.bin" && ok ||
        bad "smart-plug fctry image"
fi

# ---- native gen: same bytes for clean input, refusals with places, read-only padding
src="$ESF_DATA/nvs/n09_file_types_v2"
d=$(case_dir native "$src")
(cd "$d" && "$E" nvs gen input.csv n.bin --size 0x4000) && cmp -s "$d/n.bin" "$src/expected.bin" && ok ||
    bad "native gen n09"
"$E" nvs gen "$d/input.csv" "$tmp/n2.bin" --size 16K --base-dir "$d" && cmp -s "$tmp/n2.bin" "$src/expected.bin" && ok ||
    bad "native gen --base-dir"
"$E" nvs gen "$ESF_DATA/nvs/n15_readonly_0x2000/input.csv" "$tmp/ro.bin" --size 8K &&
    [ "$(wc -c <"$tmp/ro.bin")" = 8192 ] && cmp -s <(head -c 4096 "$tmp/ro.bin") "$ESF_DATA/nvs/n15_readonly_0x2000/expected.bin" && ok ||
    bad "native read-only image padded to the partition size"
"$E" nvs gen "$ESF_DATA/nvs/n02_primitives_v1/input.csv" "$tmp/v1.bin" --size 12K --version 1 &&
    cmp -s "$tmp/v1.bin" "$ESF_DATA/nvs/n02_primitives_v1/expected.bin" && ok || bad "native --version 1"
# n18 holds every quirk: native refuses the first one with its place; the twin warns
"$E" nvs gen "$ESF_DATA/nvs/n18_quirks_v2/input.csv" "$tmp/q.bin" --size 12K 2>"$tmp/q.txt"
[ $? = 1 ] && [ ! -e "$tmp/q.bin" ] && grep -q 'input.csv:2:1: row before any namespace' "$tmp/q.txt" && ok ||
    bad "native refuses a row before any namespace: $(cat "$tmp/q.txt")"
d=$(case_dir q18 "$ESF_DATA/nvs/n18_quirks_v2")
(cd "$d" && "$E" nvs_partition_gen generate input.csv x.bin 0x3000 >/dev/null 2>w.txt)
for w in 'input.csv:2:1: warning\|warning: input.csv:2:1' 'input.csv:4:' 'input.csv:5:' 'input.csv:6:' 'duplicate key `dup`'; do
    grep -q "$w" "$d/w.txt" && ok || bad "twin warning '$w' missing: $(cat "$d/w.txt")"
done
printf 'key,type,encoding,value\nns,namespace,,\na,data,u8,1\nb,data,string,x\na,data,u16,2\n' >"$tmp/dup.csv"
"$E" nvs gen "$tmp/dup.csv" "$tmp/dup.bin" --size 12K 2>"$tmp/dup.txt"
[ $? = 1 ] && grep -q 'dup.csv:5:1: duplicate key `a`' "$tmp/dup.txt" && ok || bad "native duplicate: $(cat "$tmp/dup.txt")"
printf 'key,type,encoding,value\nns,namespace,,\ns,data,string,"%s"\n' "$(head -c 3980 /dev/zero | tr '\0' 'x')" >"$tmp/big.csv"
"$E" nvs gen "$tmp/big.csv" "$tmp/big.bin" --size 16K 2>"$tmp/big.txt"
[ $? = 1 ] && grep -q 'big.csv:3:15: string `s` of 3981 bytes' "$tmp/big.txt" && [ ! -e "$tmp/big.bin" ] && ok ||
    bad "native refuses a 3981-byte string: $(cat "$tmp/big.txt")"
(cd "$tmp" && "$E" nvs_partition_gen generate big.csv big.bin 0x4000 >/dev/null 2>big2.txt)
[ $? = 1 ] && [ ! -e "$tmp/big.bin" ] && grep -q PageFullError "$tmp/big2.txt" && ok || bad "twin: 3981-byte string"
printf 'key,type,encoding,value\nA,namespace,,\nk1,data,u8,1\nB,namespace,,\nk2,data,u8,2\nA,namespace,,\nk3,data,u8,3\n' >"$tmp/ns.csv"
"$E" nvs gen "$tmp/ns.csv" "$tmp/ns.bin" --size 12K && "$E" nvs_partition_gen generate "$tmp/ns.csv" "$tmp/ns_twin.bin" 0x3000 >/dev/null 2>&1 &&
    [ "$(od -An -tx1 -j$((64 + 32 * 4)) -N1 "$tmp/ns.bin" | tr -d ' ')" = 01 ] &&
    [ "$(od -An -tx1 -j$((64 + 32 * 4)) -N1 "$tmp/ns_twin.bin" | tr -d ' ')" = 02 ] && ok ||
    bad "namespace re-selection: native writes k3 into A (1), the twin into B (2)"

# ---- argparse rules of the twin
d="$tmp/ap"
mkdir -p "$d"
cp "$ESF_DATA/nvs/n01_primitives_v2/input.csv" "$d/"
(cd "$d" && "$E" nvs_partition_gen generate input.csv --ver 2 o.bin 0x3000 --out sub >/dev/null) &&
    cmp -s "$d/sub/o.bin" "$ESF_DATA/nvs/n01_primitives_v2/expected.bin" && ok || bad "argparse prefixes/interleaving"
(cd "$d" && "$E" nvs_partition_gen generate input.csv o.bin 0x3000 --version=1 >/dev/null) &&
    cmp -s "$d/o.bin" "$ESF_DATA/nvs/n02_primitives_v1/expected.bin" && ok || bad "argparse --version=1"
(cd "$d" && "$E" nvs_partition_gen encrypt input.csv o.bin 0x3000 --key x.bin >/dev/null 2>e.txt)
[ $? = 2 ] && grep -q 'ambiguous option: --key could match --keygen, --keyfile, --key_protect_hmac' "$d/e.txt" && ok ||
    bad "argparse ambiguous prefix"
(cd "$d" && "$E" nvs_partition_gen generate input.csv >/dev/null 2>e.txt)
[ $? = 2 ] && grep -q 'the following arguments are required: output, size' "$d/e.txt" && ok || bad "argparse required"
(cd "$d" && "$E" nvs_partition_gen generate input.csv o.bin 0x3000 --version 3 >/dev/null 2>e.txt)
[ $? = 2 ] && grep -q 'invalid choice: 3 (choose from 1, 2)' "$d/e.txt" && ok || bad "argparse choices"
"$E" nvs_partition_gen >/dev/null 2>&1
[ $? = 1 ] && ok || bad "no arguments: exit 1"
"$E" nvs_partition_gen frob >/dev/null 2>&1
[ $? = 2 ] && ok || bad "unknown command: exit 2"
(cd "$d" && "$E" nvs_partition_gen generate input.csv o.txt 0x3000 >/dev/null 2>e.txt)
[ $? = 1 ] && grep -q 'Error: `o.txt`. Only `.bin` extension allowed.' "$d/e.txt" && ok || bad "extension check"
(cd "$d" && "$E" nvs_partition_gen encrypt input.csv o.bin 0x3000 >/dev/null 2>e.txt)
[ $? = 1 ] && grep -q 'Error. --keygen or --inputkey argument needed.' "$d/e.txt" && ok || bad "encrypt needs a key"
(cd "$d" && "$E" nvs_partition_gen generate input.csv ro.bin 0x2000 >o.txt 2>&1)
grep -q 'must be flagged as "readonly"' "$d/o.txt" && ok || bad "read-only note"

echo "nvs_gen.sh: $pass checks passed, $fails failed"
[ $fails = 0 ]
