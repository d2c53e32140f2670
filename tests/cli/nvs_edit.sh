#!/usr/bin/env bash
# espforge nvs set / erase / apply: edits of generator images, scripts (--new, commit checkpoints,
# located failures), the image file untouched on every error (hashed before/after), encrypted
# images (--key), an NVS partition inside a whole flash image (--partition, --offset/--size) with
# every other byte unchanged, and --stats. Results are read back with nvs get / dump / check.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
E=$ESPFORGE; D=$ESF_DATA/nvs
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { local want=$1; shift; "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  [ $rc = "$want" ] || fail "exit $rc (want $want): $* -- $(head -3 "$tmp/err")"; }
has() { grep -qF -- "$1" "$2" || fail "'$1' not in $2: $(head -5 "$2")"; }
get_is() { # IMAGE NS KEY WANT [options]
  local img=$1 ns=$2 key=$3 want=$4; shift 4
  local got; got=$("$E" nvs get "$img" "$ns" "$key" "$@" 2>&1)
  [ "$got" = "$want" ] || fail "get $ns/$key in $(basename "$img"): '$got', want '$want'"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# a command that must fail with status 1, print MESSAGE and leave IMAGE byte-identical
refused() { local img=$1 msg=$2; shift 2; local before; before=$(sum "$img")
  expect_rc 1 "$@"; has "$msg" "$tmp/err"
  [ "$(sum "$img")" = "$before" ] || fail "image changed by a failed command: $*"; }

# --- set: every type on a copy of a generator image; values read back; check passes
img=$tmp/n12.bin; cp "$D/n12_namespaces/expected.bin" "$img"
expect_rc 0 "$E" nvs set "$img" beta b1 u8 200
expect_rc 0 "$E" nvs set "$img" beta neg8 i8 -128
expect_rc 0 "$E" nvs set "$img" beta u16 u16 0xffff
expect_rc 0 "$E" nvs set "$img" beta i16 i16 -32768
expect_rc 0 "$E" nvs set "$img" beta u32 u32 4294967295
expect_rc 0 "$E" nvs set "$img" beta i32 i32 -2147483648
expect_rc 0 "$E" nvs set "$img" beta u64 u64 18446744073709551615
expect_rc 0 "$E" nvs set "$img" beta i64 i64 -9223372036854775808
expect_rc 0 "$E" nvs set "$img" newns greeting str "hello, NVS world"
expect_rc 0 "$E" nvs set "$img" newns cert blob 00ff10ab
expect_rc 0 "$E" nvs set "$img" newns dash str -- --not-an-option
get_is "$img" beta b1 200
get_is "$img" beta neg8 -128
get_is "$img" beta u16 65535
get_is "$img" beta i16 -32768
get_is "$img" beta u32 4294967295
get_is "$img" beta i32 -2147483648
get_is "$img" beta u64 18446744073709551615
get_is "$img" beta i64 -9223372036854775808
get_is "$img" newns greeting "hello, NVS world"
get_is "$img" newns dash "--not-an-option"
"$E" nvs get "$img" newns cert -o "$tmp/cert.bin" || fail "get cert"
[ "$(od -An -tx1 "$tmp/cert.bin" | tr -d ' \n')" = 00ff10ab ] || fail "blob bytes: $(od -An -tx1 "$tmp/cert.bin")"
get_is "$img" alpha a1 1   # untouched values of the generator image
get_is "$img" gamma g1 -3
get_is "$img" beta b2 bee
expect_rc 0 "$E" nvs check "$img"
expect_rc 0 "$E" nvs dump "$img"
has 'newns (namespace 5)' "$tmp/out"
has 'greeting        string  "hello, NVS world"' "$tmp/out"
# replacing a value by another type (IDF >= v5.5 semantics): one value remains
expect_rc 0 "$E" nvs set "$img" beta b1 str "now a string"
get_is "$img" beta b1 "now a string"
expect_rc 0 "$E" nvs check "$img"
# float/double (IDF >= v6.1 types)
expect_rc 0 "$E" nvs set "$img" newns ratio double 0.5
expect_rc 0 "$E" nvs set "$img" newns f float -1.25
expect_rc 0 "$E" nvs check "$img"
get_is "$img" newns ratio 0.5
get_is "$img" newns f -1.25

# --- float/double read back exactly (shortest text that reads back to the same bits) by get,
# dump text/JSON and diff; native check accepts them; a generator CSV refuses them by key
fimg=$tmp/float.bin
cat > "$tmp/float.nvs" <<'EOF'
set app pi float 3.25
set app e double 2.5
set app n u8 7
set app neg float -1.5
set app tenth float 0.1
set app dtenth double 0.1
set app tiny double 1e-30
set app ftiny float 1e-30
set app big double 1.7976931348623157e308
set app fbig float 3.4028234663852886e38
set app nz double -0.0
set app third double 0.3333333333333333
set app pinf float inf
EOF
expect_rc 0 "$E" nvs apply "$fimg" "$tmp/float.nvs" --new 0x3000
while read -r k want; do get_is "$fimg" app "$k" "$want"; done <<'EOF'
pi 3.25
e 2.5
n 7
neg -1.5
tenth 0.1
dtenth 0.1
tiny 1e-30
ftiny 1e-30
big 1.7976931348623157e+308
fbig 3.4028235e+38
nz -0
third 0.3333333333333333
pinf inf
EOF
# the stored bits are the IEEE-754 encodings (float 0.1 = 0x3dcccccd, upper 4 bytes 0xFF)
od -An -tx1 -v "$fimg" | tr -d ' \n' | grep -q 'cdcccc3dffffffff' || fail "float 0.1 bits not in image"
expect_rc 0 "$E" nvs dump "$fimg"
has '  pi              float   3.25' "$tmp/out"
has '  dtenth          double  0.1' "$tmp/out"
has '  nz              double  -0' "$tmp/out"
has '13 values' "$tmp/out"
expect_rc 0 "$E" nvs dump "$fimg" --format json
has '"key": "tiny", "type": "double", "value": 1e-30,' "$tmp/out"
has '"key": "neg", "type": "float", "value": -1.5,' "$tmp/out"
has '"key": "pinf", "type": "float", "value": "inf",' "$tmp/out"
if command -v python3 > /dev/null; then
  python3 -c 'import json,sys; v={x["key"]:x["value"] for x in json.load(open(sys.argv[1]))["values"]}
assert v["big"]==1.7976931348623157e308 and v["dtenth"]==0.1 and v["third"]==0.3333333333333333, v' \
    "$tmp/out" || fail "dump JSON does not parse back to the exact doubles"
fi
expect_rc 0 "$E" nvs check "$fimg" --strict
has '0 error(s), 0 warning(s)' "$tmp/out"
expect_rc 1 "$E" nvs dump "$fimg" --format csv
has "key 'pi': float types have no generator encoding" "$tmp/err"
cp "$fimg" "$tmp/float2.bin"
expect_rc 0 "$E" nvs set "$tmp/float2.bin" app tenth float 0.2
expect_rc 1 "$E" nvs diff "$fimg" "$tmp/float2.bin"
has '0.2' "$tmp/out"

# --- erase: a key, then a whole namespace
expect_rc 0 "$E" nvs erase "$img" beta b2
expect_rc 1 "$E" nvs get "$img" beta b2
expect_rc 0 "$E" nvs erase "$img" newns
for k in greeting cert dash ratio f; do expect_rc 1 "$E" nvs get "$img" newns "$k"; done
get_is "$img" gamma g1 -3
expect_rc 0 "$E" nvs check "$img"

# --- runtime writes on top of every writable generator image pass check and read back
n=0
for dir in "$D"/n*/; do
  case $dir in *encrypted*|*readonly*|*generate_key*) continue ;; esac
  c=$tmp/gen.bin; cp "$dir/expected.bin" "$c"
  expect_rc 0 "$E" nvs set "$c" espforge added str "on top of $(basename "$dir")"
  get_is "$c" espforge added "on top of $(basename "$dir")"
  expect_rc 0 "$E" nvs check "$c"
  n=$((n + 1))
done
[ $n -ge 17 ] || fail "only $n generator images edited"

# --- apply: a fresh image from a script; quoted values, comments, blank lines
cat > "$tmp/setup.nvs" <<'EOF'
# factory settings for the smart plug
set config name str "Smart Plug 2"   # quoted, with spaces
set config port u16 8080

set config token blob "de ad be ef"
set config count i32 -1
set wifi ssid str MyHomeNetwork
commit
set wifi pass str "a \"quoted\" pass\\word"
erase config count
erase_all scratch
EOF
# the last line names a namespace that does not exist: the script fails there, after a commit
new=$tmp/new.bin
expect_rc 1 "$E" nvs apply "$new" "$tmp/setup.nvs" --new 24K
has "setup.nvs:11:11: erase_all scratch: namespace 'scratch' not found" "$tmp/err"
has "kept as committed at $tmp/setup.nvs:8" "$tmp/err"
[ "$(stat -c %s "$new")" = 24576 ] || fail "--new 24K: $(stat -c %s "$new") bytes"
get_is "$new" config name "Smart Plug 2"
get_is "$new" config count -1          # state of the commit: the later erase is not there
expect_rc 1 "$E" nvs get "$new" wifi pass
expect_rc 0 "$E" nvs check "$new"
sed -i '$d' "$tmp/setup.nvs"           # drop the failing line: the whole script applies
expect_rc 0 "$E" nvs apply "$new" "$tmp/setup.nvs" --new 0x6000 --stats
has "programmed:" "$tmp/out"
has "erases per sector (6 sectors): min 0, max 0, mean 0.00" "$tmp/out"
get_is "$new" wifi pass 'a "quoted" pass\word'
get_is "$new" config port 8080
expect_rc 1 "$E" nvs get "$new" config count
expect_rc 0 "$E" nvs check "$new"
expect_rc 0 "$E" nvs dump "$new"
has 'token           blob' "$tmp/out"
has '# 6 pages (24576 bytes), format version 2, 2 namespaces' "$tmp/out"

# the scripts of tests/data/nvs-script: every type at its extremes, quoting, rewrites
S=$ESF_DATA/nvs-script
expect_rc 0 "$E" nvs apply "$tmp/types.bin" "$S/all_types.nvs" --new 16K
for kv in "u8 255" "i8 -128" "u16 65535" "i16 -32768" "u32 4294967295" "i32 -2147483648" \
          "u64 18446744073709551615" "i64 -9223372036854775808" "s hello" "b 0001feff"; do
  set -- $kv; get_is "$tmp/types.bin" t "$1" "$2"
done
expect_rc 0 "$E" nvs check "$tmp/types.bin"
expect_rc 0 "$E" nvs apply "$tmp/quoting.bin" "$S/quoting.nvs" --new 16K
get_is "$tmp/quoting.bin" cfg esc 'tab	here "quoted" back\slash AB'
get_is "$tmp/quoting.bin" cfg hash '# not a comment'
get_is "$tmp/quoting.bin" cfg hexsp deadbeef
expect_rc 1 "$E" nvs get "$tmp/quoting.bin" cfg empty
expect_rc 1 "$E" nvs get "$tmp/quoting.bin" "name space" "key one"
expect_rc 0 "$E" nvs apply "$tmp/rewrites.bin" "$S/rewrites.nvs" --new 16K
get_is "$tmp/rewrites.bin" w k 3
get_is "$tmp/rewrites.bin" w big 00
expect_rc 0 "$E" nvs check "$tmp/rewrites.bin"
refused "$tmp/rewrites.bin" "bad_range.nvs:2:17: out of range for i16 (-32768..32767)" \
  "$E" nvs apply "$tmp/rewrites.bin" "$S/bad_range.nvs"

# a script without commit that fails: nothing applied, the file untouched
printf 'set config port u16 9\nerase config nokey\n' > "$tmp/bad.nvs"
refused "$new" "bad.nvs:2:14: erase config nokey: key 'nokey' not found in namespace 'config'" \
  "$E" nvs apply "$new" "$tmp/bad.nvs"
has "unchanged" "$tmp/err"
get_is "$new" config port 8080

# --purge: erased entries are zero-filled (NVS_READWRITE_PURGE); without it the bytes stay
printf 'set p a str "remember me"\nset p b str "forget me"\n' > "$tmp/purge.nvs"
expect_rc 0 "$E" nvs apply "$tmp/purge.bin" "$tmp/purge.nvs" --new 12K
expect_rc 0 "$E" nvs erase "$tmp/purge.bin" p a
grep -q "remember me" "$tmp/purge.bin" || fail "a plain erase removed the bytes (expected only the bitmap)"
expect_rc 0 "$E" nvs erase "$tmp/purge.bin" p b --purge
grep -q "forget me" "$tmp/purge.bin" && fail "--purge left the erased string's bytes"
expect_rc 0 "$E" nvs check "$tmp/purge.bin"
expect_rc 1 "$E" nvs get "$tmp/purge.bin" p b

# --- wear: 3000 rewrites of one key on 6 pages force garbage collection
{ for i in $(seq 1 3000); do echo "set w counter u32 $i"; done; } > "$tmp/wear.nvs"
expect_rc 0 "$E" nvs apply "$tmp/wear.bin" "$tmp/wear.nvs" --new 24K --stats
get_is "$tmp/wear.bin" w counter 3000
erased=$(sed -n 's/^erased: \([0-9]*\) sectors$/\1/p' "$tmp/out")
# 3000 u32 entries fill ~24 pages' worth: at least 24 - 6 pages were recycled, and no sector
# carries much more than its share (ESP-IDF's wear test bound: rewrites / 126 / 4 + 1 per sector
# for 4 sectors in rotation; here 6 in rotation)
[ -n "$erased" ] && [ "$erased" -ge 17 ] || fail "3000 rewrites erased '$erased' sectors: $(cat "$tmp/out")"
max=$(sed -n 's/^erases per sector (6 sectors): min [0-9]*, max \([0-9]*\).*/\1/p' "$tmp/out")
[ -n "$max" ] && [ "$max" -le $((3000 / 126 / 4 + 2)) ] || fail "erase spread: max '$max' per sector"
expect_rc 0 "$E" nvs check "$tmp/wear.bin"

# --- bad input: located message, exit 1, image untouched
img=$tmp/n01.bin; cp "$D/n01_primitives_v2/expected.bin" "$img"
refused "$img" "TYPE 'int': unknown type" "$E" nvs set "$img" prims k int 5
refused "$img" "VALUE '256': out of range for u8 (0..255)" "$E" nvs set "$img" prims k u8 256
refused "$img" "VALUE '-1': out of range for u32" "$E" nvs set "$img" prims k u32 -1
refused "$img" "VALUE '12abc': not an integer" "$E" nvs set "$img" prims k i16 12abc
refused "$img" "VALUE 'abc': odd number of hex digits" "$E" nvs set "$img" prims k blob abc
refused "$img" "key name 'k123456789abcdef' is 16 bytes" "$E" nvs set "$img" prims k123456789abcdef u8 1
refused "$img" "namespace 'nosuchns' not found" "$E" nvs erase "$img" nosuchns
refused "$img" "namespace 'nosuchns' not found" "$E" nvs erase "$img" nosuchns somekey
refused "$img" "key 'nokey' not found in namespace 'prims'" "$E" nvs erase "$img" prims nokey
printf 'set prims a u8 1\nset prims b u8 1\nset prims c i8 200\n' > "$tmp/range.nvs"
refused "$img" "range.nvs:3:16: out of range for i8 (-128..127)" "$E" nvs apply "$img" "$tmp/range.nvs"
printf 'set prims a str "unterminated\n' > "$tmp/quote.nvs"
refused "$img" "quote.nvs:1:17: unterminated quoted word" "$E" nvs apply "$img" "$tmp/quote.nvs"
printf 'frobnicate prims a\n' > "$tmp/verb.nvs"
refused "$img" "verb.nvs:1:1: unknown operation" "$E" nvs apply "$img" "$tmp/verb.nvs"
head -c 12288 /dev/urandom > "$tmp/random.bin"
refused "$tmp/random.bin" "not an NVS partition" "$E" nvs set "$tmp/random.bin" ns k u8 1
refused "$tmp/random.bin" "offset 0x0" "$E" nvs set "$tmp/random.bin" ns k u8 1
head -c 5000 "$D/n01_primitives_v2/expected.bin" > "$tmp/short.bin"
refused "$tmp/short.bin" "not a multiple of the 4096-byte NVS page" "$E" nvs set "$tmp/short.bin" ns k u8 1
expect_rc 2 "$E" nvs set "$img" prims k u8
expect_rc 2 "$E" nvs apply "$img" "$tmp/verb.nvs" --bogus
expect_rc 2 "$E" nvs apply "$tmp/nosize.bin" "$ESF_DATA/nvs-script/all_types.nvs" --new 12Q
has "--new: '12Q' is not a size" "$tmp/err"
grep -q '^error: $' "$tmp/err" && fail "empty error line for a bad --new"
[ -e "$tmp/nosize.bin" ] && fail "a bad --new created the image"
expect_rc 2 "$E" nvs set "$img" prims k u8 1 --new 12K
expect_rc 1 "$E" nvs set "$tmp/absent.bin" ns k u8 1
[ -e "$tmp/absent.bin" ] && fail "set created a missing image"

# --- encrypted: edit with the keys file, then decrypt and dump with the key
enc=$tmp/enc.bin; cp "$D/n21_encrypted_v2/expected.bin" "$enc"
K=$D/n21_encrypted_v2/keys.bin
refused "$enc" "the NVS partition is encrypted (give --key KEYS.bin)" "$E" nvs set "$enc" files x u8 1
refused "$enc" "does not decrypt this NVS partition" \
  "$E" nvs set "$enc" files x u8 1 --key "$D/n23_generate_key_format_example/example_keys.bin"
refused "$enc" "keys CRC" "$E" nvs set "$enc" files x u8 1 --key "$D/n01_primitives_v2/expected.bin"
expect_rc 0 "$E" nvs set "$enc" files added str "secret value" --key "$K"
grep -qF "secret value" "$enc" && fail "plaintext in the encrypted image"
get_is "$enc" files added "secret value" --key "$K"
expect_rc 0 "$E" nvs check "$enc" --key "$K"
expect_rc 0 "$E" nvs decrypt "$enc" "$tmp/dec.bin" --key "$K"
expect_rc 0 "$E" nvs dump "$tmp/dec.bin"
has 'added           string  "secret value"' "$tmp/out"
has 'fstr' "$tmp/out"
expect_rc 0 "$E" nvs erase "$enc" files fbin --key "$K"
expect_rc 1 "$E" nvs get "$enc" files fbin --key "$K"
expect_rc 0 "$E" nvs check "$enc" --key "$K"

# --- a whole flash image: smart-plug table at 0x8000, NVS partitions nvs (0x9000) and fctry
if [ -n "${ESF_SRC:-}" ] && [ -f "$ESF_SRC/examples/smart-plug/partitions.csv" ]; then
  expect_rc 0 "$E" part gen "$ESF_SRC/examples/smart-plug/partitions.csv" "$tmp/parts.bin"
  flash=$tmp/flash.bin
  head -c $((0x400000)) /dev/urandom > "$flash"
  dd if="$tmp/parts.bin" of="$flash" bs=4096 seek=8 conv=notrunc status=none
  head -c $((0x6000)) /dev/zero | tr '\0' '\377' | dd of="$flash" bs=4096 seek=9 conv=notrunc status=none
  dd if="$D/n12_namespaces/expected.bin" of="$flash" bs=4096 seek=$((0x340000 / 4096)) conv=notrunc status=none
  head -c $((0x3000)) /dev/zero | tr '\0' '\377' | dd of="$flash" bs=4096 seek=$((0x343000 / 4096)) conv=notrunc status=none
  cp "$flash" "$tmp/flash.orig"
  expect_rc 0 "$E" nvs set "$flash" --partition nvs wifi ssid str "MyHomeNetwork"
  expect_rc 0 "$E" nvs set "$flash" --partition=fctry alpha serial str SN-0042
  printf 'set cfg on u8 1\nset cfg name str "living room"\n' > "$tmp/cfg.nvs"
  expect_rc 0 "$E" nvs apply "$flash" "$tmp/cfg.nvs" --offset 0x9000 --size 0x6000 --stats
  has "erases per sector (6 sectors)" "$tmp/out"
  get_is "$flash" wifi ssid MyHomeNetwork --partition nvs
  get_is "$flash" cfg name "living room" --partition nvs
  get_is "$flash" alpha serial SN-0042 --partition fctry
  get_is "$flash" beta b2 bee --partition fctry
  expect_rc 0 "$E" nvs check "$flash" --partition nvs
  expect_rc 0 "$E" nvs check "$flash" --partition fctry
  # every byte outside the two NVS partitions is unchanged
  cmp -s <(head -c $((0x9000)) "$flash") <(head -c $((0x9000)) "$tmp/flash.orig") || fail "bytes before nvs changed"
  cmp -s <(tail -c +$((0xF000 + 1)) "$flash" | head -c $((0x340000 - 0xF000))) \
         <(tail -c +$((0xF000 + 1)) "$tmp/flash.orig" | head -c $((0x340000 - 0xF000))) || fail "bytes between nvs and fctry changed"
  cmp -s <(tail -c +$((0x346000 + 1)) "$flash") <(tail -c +$((0x346000 + 1)) "$tmp/flash.orig") || fail "bytes after fctry changed"
  [ "$(stat -c %s "$flash")" = $((0x400000)) ] || fail "flash image size changed"
  refused "$flash" "partition 'ota_0' is type 0x00 subtype 0x10, not an NVS partition" \
    "$E" nvs set "$flash" --partition ota_0 ns k u8 1
  refused "$flash" "no partition labelled 'nope'" "$E" nvs set "$flash" --partition nope ns k u8 1
  refused "$flash" "not an NVS partition" "$E" nvs set "$flash" --offset 0x20000 --size 0x6000 ns k u8 1
else
  echo "SKIP: flash-image case (ESF_SRC/examples/smart-plug/partitions.csv not found)"
fi

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "nvs_edit: all passed"
