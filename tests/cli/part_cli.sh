#!/usr/bin/env bash
# `espforge part ...` and the gen_esp32part twin's command line: invalid input gives a non-zero
# exit, a message naming file and line, and leaves no output file (an existing one untouched);
# argparse quirks of the reference; flash images; builtin; layout.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
E=$ESPFORGE

# -- every invalid vector through the native command: exit 1, file:line:col, no output
n=0
while IFS='|' read -r dir want cmd; do
  case "$dir" in partition-invalid/*) ;; *) continue;; esac
  n=$((n + 1))
  opts=$(echo "$cmd" | sed -e 's/-q //' -e 's/ input.csv out.bin//' -e 's/input.csv out.bin//')
  in="$ESF_DATA/$dir/input.csv"
  # shellcheck disable=SC2086
  "$E" part gen $opts "$in" "$tmp/new/out.bin" 2>"$tmp/err"; rc=$?
  [ $rc = 1 ] || bad "$dir: part gen exit $rc"
  grep -Eq "^error: .*input\.csv:[0-9]+:[0-9]+: " "$tmp/err" || { bad "$dir: message without file:line:col"; cat "$tmp/err"; }
  [ -e "$tmp/new/out.bin" ] && bad "$dir: output left behind"
  # an existing output file stays as it was
  echo keep > "$tmp/keep.bin"
  # shellcheck disable=SC2086
  "$E" part gen $opts "$in" "$tmp/keep.bin" 2>/dev/null
  [ "$(cat "$tmp/keep.bin")" = keep ] || bad "$dir: existing output overwritten"
  # shellcheck disable=SC2086
  "$E" gen_esp32part $opts "$in" "$tmp/keep.bin" 2>/dev/null
  [ "$(cat "$tmp/keep.bin")" = keep ] || bad "$dir: twin overwrote the existing output"
  "$E" part check $opts "$in" >/dev/null 2>&1 && bad "$dir: part check accepted it"
done < "$ESF_DATA/partition/CASES"
[ $n = 19 ] || bad "only $n invalid vectors"
ls "$tmp" | grep -q '\.tmp' && bad "temporary files left in $tmp"

# -- a run of K/M suffixes: the reference strips one per recursive call and hits Python's
# recursion limit after 992 (RecursionError, exit 1); found by fuzz_part_csv as a stack overflow.
ks=$(printf 'k%.0s' $(seq 992))
printf 'nvs,data,nvs,,0%s,\nfactory,app,factory,,1M,\n' "$ks" > "$tmp/k992.csv"
"$E" gen_esp32part -q "$tmp/k992.csv" "$tmp/k992.bin" 2>"$tmp/err"; rc=$?
# 0 * 1024^992 = 0: the reference then refuses the size-0 nvs partition (exit 2), as here
[ $rc = 2 ] && grep -q "nvs" "$tmp/err" || { bad "992 suffixes: exit $rc"; cat "$tmp/err"; }
printf 'nvs,data,nvs,,0%sk,\nfactory,app,factory,,1M,\n' "$ks" > "$tmp/k993.csv"
"$E" gen_esp32part -q "$tmp/k993.csv" "$tmp/k993.bin" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "more than 992 K/M suffixes" "$tmp/err" || { bad "993 suffixes: exit $rc"; cat "$tmp/err"; }
[ -e "$tmp/k993.bin" ] && bad "993 suffixes: output written"
ks=$(printf 'k%.0s' $(seq 100000))
printf 'nvs,data,nvs,,1%s,\n' "$ks" > "$tmp/kbig.csv"
"$E" part gen "$tmp/kbig.csv" "$tmp/kbig.bin" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -Eq "kbig\.csv:1:[0-9]+: " "$tmp/err" || { bad "100000 suffixes: exit $rc"; cat "$tmp/err"; }

csv=$ESF_DATA/partition/p02_two_ota/input.csv
bin=$ESF_DATA/partition/p02_two_ota/expected.bin
# -- strict native vs compatible twin: a 20-byte name
long=$ESF_DATA/partition/p11_name_lengths/input.csv
"$E" part gen "$long" "$tmp/long.bin" 2>"$tmp/err" && bad "part gen accepted a 20-byte name"
grep -q "input.csv:2:1: .*is 20 bytes" "$tmp/err" || { bad "long name message"; cat "$tmp/err"; }
"$E" gen_esp32part -q "$long" "$tmp/long.bin" 2>"$tmp/err" || bad "twin refused a 20-byte name"
grep -q "warning: .*input.csv:2:1: partition name 'name_of_20_chars_xyz' is 20 bytes" "$tmp/err" || bad "twin warning"

# -- twin: argparse behaviour of the reference
cd "$tmp" || exit 1
cp "$csv" in.csv
"$E" gen_esp32part in.csv -q out.bin 2>err; [ $? = 2 ] && grep -q "unrecognized arguments: out.bin" err || bad "interleaved positionals"
"$E" gen_esp32part --flash-size in.csv out.bin 2>err; [ $? = 2 ] && grep -q "invalid choice: 'in.csv'" err || bad "--flash-size swallowing"
"$E" gen_esp32part -q 2>err; [ $? = 2 ] && grep -q "required: input" err || bad "missing input"
"$E" gen_esp32part -q missing.csv 2>err; [ $? = 2 ] && grep -q "can't open 'missing.csv'" err || bad "missing file"
"$E" gen_esp32part --qu --off=0x8000 --disable in.csv prefix.bin || bad "long option prefixes"
cmp -s prefix.bin "$ESF_DATA/partition/p02_two_ota/expected.bin" && bad "--disable-md5sum prefix ignored"
"$E" gen_esp32part -qo0x8000 in.csv short.bin && cmp -s short.bin "$bin" || bad "combined short options"
"$E" gen_esp32part -q in.csv > stdout.bin && cmp -s stdout.bin "$bin" || bad "stdout output"
"$E" gen_esp32part -q in.csv - > dash.bin && cmp -s dash.bin "$bin" || bad "'-' output"
"$E" gen_esp32part -q - new/dir/out.bin < in.csv && cmp -s new/dir/out.bin "$bin" || bad "stdin input, output dir creation"
"$E" gen_esp32part "$bin" 2>err >out.csv && cmp -s out.csv "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "bin->csv on stdout"
printf 'Parsing binary partition input...\nVerifying table...\n' | cmp -s - err || bad "status lines"
"$E" gen_esp32part -h | grep -q "^usage: gen_esp32part.py" || bad "help"
ln -s "$E" gen_esp32part
./gen_esp32part -q in.csv link.bin && cmp -s link.bin "$bin" || bad "called through a symlink"

# -- show: CSV, table binary, whole flash image (table at 0x8000 or --offset)
"$E" part show --csv "$bin" | cmp -s - "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "show --csv bin"
"$E" part show --csv "$csv" | cmp -s - "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "show --csv csv"
"$E" part show --json "$bin" | grep -q '"name":	"otadata"' || bad "show --json"
"$E" part show "$bin" | grep -q '^ 1 otadata          OTA data ' || bad "show summary"
head -c 65536 /dev/zero | tr '\0' '\377' > img.bin
dd if="$bin" of=img.bin bs=1 seek=32768 conv=notrunc 2>/dev/null
"$E" part show --csv img.bin | cmp -s - "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "show image"
dd if="$bin" of=img.bin bs=1 seek=36864 conv=notrunc 2>/dev/null
"$E" part show --csv --offset 0x9000 img.bin | cmp -s - "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "show image --offset"
"$E" part check img.bin >/dev/null || bad "check image"
printf '\0' | dd of=img.bin bs=1 seek=32768 conv=notrunc 2>/dev/null
"$E" part show img.bin 2>err; [ $? = 1 ] && grep -q "img.bin: offset 0x8000: Invalid magic" err || { bad "damaged image"; cat err; }

# -- builtin and layout
"$E" part builtin | grep -qx two_ota_tee || bad "builtin list"
"$E" part builtin nope 2>/dev/null; [ $? = 2 ] || bad "unknown builtin"
"$E" part layout --flash-size 4MB --ota 3 2>err; [ $? = 1 ] && grep -q "does not fit" err || bad "3 slots in 4 MB"
"$E" part layout --flash-size 4MB --ota 2 --fs littlefs > layout.csv || bad "layout"
grep -q '^vfs,data,littlefs,0x210000,1984K,$' layout.csv || bad "layout fs"
"$E" part layout --flash-size 8MB --app-size 1800K -o layout.bin && "$E" part check layout.bin >/dev/null || bad "layout -o"
"$E" part gen layout.csv layout2.bin -q && "$E" part layout --flash-size 4MB --ota 2 --fs littlefs -o layout3.bin &&
  cmp -s layout2.bin layout3.bin || bad "layout CSV and binary agree"
# a CSV larger than a table sector is still read as CSV (not as a flash image)
{ cat "$csv"; for i in $(seq 200); do echo "# padding comment $i, long enough to pass 4 KiB in the end"; done; } > big.csv
"$E" part show --csv big.csv | cmp -s - "$ESF_DATA/partition/p02_two_ota/expected.csv" || bad "big CSV"
# a binary without an MD5 row: accepted, with a warning about the application-side loader
"$E" part check "$ESF_DATA/partition/p10_no_md5/expected.bin" >/dev/null 2>err || bad "check no-MD5 table"
grep -q "no MD5 row" err || bad "no-MD5 warning"
exit $fail
