#!/usr/bin/env bash
# Mass manufacturing: the mfg_gen twin and `espforge mfg gen` against the reference's outputs
# (tests/data/mfg/*/expected, produced by mfg_gen.py; see tests/data/README.md), plus the native
# command's guarantees: validation before any write, --keep-going, resume, manifest, keys.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}" "${ESF_BIN_DIR:?}"
D=$ESF_DATA/mfg
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# copy a case's inputs (not its expected outputs) to a fresh directory
stage() { rm -rf "$T/$2"; mkdir -p "$T/$2"; (cd "$D/$1" && tar cf - --exclude=expected --exclude=expected_stdout.txt .) | (cd "$T/$2" && tar xf -); }

# 1. every case through the twin (once via `espforge mfg_gen`, once via the mfg_gen symlink)
for dir in "$D"/*/; do
    [ -f "$dir/args" ] || continue  # a run case (fuzz/ holds seeds)
    c=$(basename "$dir")
    read -r -a args < "$dir/args"
    for how in sub link; do
        stage "$c" "$c.$how"
        if [ $how = sub ]; then cmd=("$ESPFORGE" mfg_gen); else cmd=("$ESF_BIN_DIR/mfg_gen"); fi
        (cd "$T/$c.$how" && "${cmd[@]}" generate config.csv values.csv "${args[@]}" --outdir expected > stdout.txt 2> stderr.txt)
        rc=$?
        [ $rc = 0 ] || { fail "$c ($how): exit $rc: $(cat "$T/$c.$how/stderr.txt")"; continue; }
        diff -r "$dir/expected" "$T/$c.$how/expected" > /dev/null || fail "$c ($how): output tree differs"
        if [ -f "$dir/expected_stdout.txt" ]; then
            diff "$dir/expected_stdout.txt" "$T/$c.$how/stdout.txt" > /dev/null || fail "$c ($how): stdout differs"
        fi
        ls "$T/$c.$how" | grep -q '_tmp' && fail "$c ($how): left *_tmp files next to the inputs"
    done
    # per-device CSVs use CRLF like Python's csv.writer
    f=$(ls "$T/$c.sub/expected/csv/" | head -1)
    head -1 "$T/$c.sub/expected/csv/$f" | od -c | grep -q '\\r  \\n' || fail "$c: per-device CSV not CRLF"
done

# 2. native command: same bin/ and csv/ trees, manifest hashes match the files
for dir in "$D"/*/; do
    [ -f "$dir/args" ] || continue
    c=$(basename "$dir")
    read -r -a args < "$dir/args"
    case " ${args[*]} " in *" --keygen "*|*" --prefix_num "*|*" --keyfile "*) continue ;; esac
    # the twin's options that the native command spells the same: --version, --fileid, --inputkey
    stage "$c" "$c.native"
    (cd "$T/$c.native" && "$ESPFORGE" mfg gen config.csv values.csv "${args[@]}" --outdir out -j 2 > /dev/null 2> stderr.txt)
    rc=$?
    [ $rc = 0 ] || { fail "$c native: exit $rc: $(cat "$T/$c.native/stderr.txt")"; continue; }
    diff -r "$dir/expected/bin" "$T/$c.native/out/bin" > /dev/null || fail "$c native: bin/ differs"
    diff -r "$dir/expected/csv" "$T/$c.native/out/csv" > /dev/null || fail "$c native: csv/ differs"
    tail -n +2 "$T/$c.native/out/manifest.csv" | while IFS=, read -r idx id img sha key plain; do
        got=$(sha256sum "$T/$c.native/out/$img" | cut -d' ' -f1)
        [ "$got" = "$sha" ] || echo "FAIL: $c native: manifest hash of $img"
    done | grep FAIL && fails=$((fails + 1))
done

# 3. resume: a rerun keeps everything; a damaged image is regenerated; a changed value too
W=$T/m01_idf_sample_v2.native
if [ -d "$W/out" ]; then
    out=$(cd "$W" && "$ESPFORGE" mfg gen config.csv values.csv Sample 0x4000 --outdir out --json 2>/dev/null)
    echo "$out" | grep -q '"skipped":[[:space:]]*3' || fail "resume: rerun did not keep the 3 images: $out"
    printf 'X' | dd of="$W/out/bin/Sample-2.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
    out=$(cd "$W" && "$ESPFORGE" mfg gen config.csv values.csv Sample 0x4000 --outdir out --json 2>/dev/null)
    echo "$out" | grep -q '"written":[[:space:]]*1' || fail "resume: damaged image not regenerated: $out"
    cmp -s "$W/out/bin/Sample-2.bin" "$D/m01_idf_sample_v2/expected/bin/Sample-2.bin" || fail "resume: repaired image differs"
    sed -i 's/^2,126,/2,120,/' "$W/values.csv"
    out=$(cd "$W" && "$ESPFORGE" mfg gen config.csv values.csv Sample 0x4000 --outdir out --json 2>/dev/null)
    echo "$out" | grep -q '"written":[[:space:]]*1' || fail "resume: changed device not regenerated: $out"
fi

# 4. validation before writing: a bad value in the 3rd device -> nothing written, located error
stage m02_fileid_prefix_v1 bad
sed -i 's/^SN00019,,a0b1c2d3e4f7,7,/SN00019,,a0b1c2d3e4f,7,/' "$T/bad/values.csv"
(cd "$T/bad" && "$ESPFORGE" mfg gen config.csv values.csv dev 0x5000 --outdir out > /dev/null 2> err.txt)
rc=$?
[ $rc = 1 ] || fail "bad row: exit $rc, want 1"
[ -e "$T/bad/out" ] && fail "bad row: output written"
grep -q 'values.csv:4:10' "$T/bad/err.txt" || fail "bad row: error not located at values.csv:4:10: $(cat "$T/bad/err.txt")"
# the twin: the generator's InputError -> exit 254, nothing written
(cd "$T/bad" && "$ESPFORGE" mfg_gen generate config.csv values.csv dev 0x5000 --outdir tw > tw.txt 2>&1)
rc=$?
[ $rc = 254 ] || fail "bad row twin: exit $rc, want 254"
grep -q 'Invalid data length. Should be multiple of 2' "$T/bad/tw.txt" || fail "bad row twin: message: $(cat "$T/bad/tw.txt")"
[ -e "$T/bad/tw/bin" ] && fail "bad row twin: output written"
# --keep-going: the two good devices are written, the bad one listed, exit 3
(cd "$T/bad" && "$ESPFORGE" mfg gen config.csv values.csv dev 0x5000 --outdir kg --keep-going > /dev/null 2> kg.txt)
rc=$?
[ $rc = 3 ] || fail "keep-going: exit $rc, want 3"
[ "$(ls "$T/bad/kg/bin" 2>/dev/null | wc -l)" = 2 ] || fail "keep-going: want 2 images"
grep -q 'values.csv:4' "$T/bad/kg.txt" || fail "keep-going: bad device not listed"
[ "$(tail -n +2 "$T/bad/kg/manifest.csv" | wc -l)" = 2 ] || fail "keep-going: manifest rows"

# 5. config errors: the reference's messages and exit code 1
stage m01_idf_sample_v2 cfg
sed -i 's/^dummyU16Key,data,u16$/dummyU16Key,data,i16/' "$T/cfg/config.csv"
(cd "$T/cfg" && "$ESPFORGE" mfg_gen generate config.csv values.csv S 0x4000 > out.txt 2> err.txt)
rc=$?
[ $rc = 1 ] || fail "config i16: exit $rc, want 1"
grep -q 'has invalid encoding at line no:4' "$T/cfg/err.txt" || fail "config i16: message: $(cat "$T/cfg/err.txt")"
stage m01_idf_sample_v2 cnt
sed -i '3s/$/,extra/' "$T/cnt/values.csv"
(cd "$T/cnt" && "$ESPFORGE" mfg gen config.csv values.csv S 0x4000 --outdir o > /dev/null 2> err.txt)
[ $? = 1 ] || fail "value count: want exit 1"
grep -q 'values.csv:3:' "$T/cnt/err.txt" || fail "value count: not located: $(cat "$T/cnt/err.txt")"
# duplicate file ids refused before writing
stage m02_fileid_prefix_v1 dup
sed -i 's/^SN00019,/SN00017,/' "$T/dup/values.csv"
(cd "$T/dup" && "$ESPFORGE" mfg gen config.csv values.csv dev 0x5000 --fileid serial --outdir o > /dev/null 2> err.txt)
[ $? = 1 ] || fail "duplicate id: want exit 1"
[ -e "$T/dup/o" ] && fail "duplicate id: output written"

# invalid UTF-8 in the values file: located error, nothing written
stage m01_idf_sample_v2 u8
printf '4,1,1,1,1,1,1,1,\xff,01,AA==,testdata/sample.hex,testdata/sample.base64,testdata/sample.txt,testdata/sample_blob.bin,testdata/sample_blob.bin,testdata/sample_multipage_blob.bin\n' >> "$T/u8/values.csv"
(cd "$T/u8" && "$ESPFORGE" mfg gen config.csv values.csv S 0x4000 --outdir o > /dev/null 2> err.txt)
[ $? = 1 ] || fail "utf-8: want exit 1"
grep -q 'values.csv:5:17: .*invalid UTF-8' "$T/u8/err.txt" || fail "utf-8: not located: $(cat "$T/u8/err.txt")"
[ -e "$T/u8/o" ] && fail "utf-8: output written"

# 6. fresh keys: one 4096-byte keys file per device, listed in the manifest
stage m03_encrypted_v2 kg
(cd "$T/kg" && "$ESPFORGE" mfg gen config.csv values.csv enc 0x5000 --keygen --no-csv --outdir o > /dev/null 2>&1) || fail "keygen: failed"
[ "$(ls "$T/kg/o/keys" | wc -l)" = 3 ] || fail "keygen: want 3 key files"
[ -e "$T/kg/o/csv" ] && fail "--no-csv: csv/ written"
[ "$(stat -c %s "$T/kg/o/keys/keys-enc-1.bin")" = 4096 ] || fail "keygen: key file size"
grep -q ',keys/keys-enc-2.bin,' "$T/kg/o/manifest.csv" || fail "keygen: manifest lacks the key file"
# resume with fresh keys: images and keys are kept; a lost key file makes that device regenerate
k1=$(sha256sum < "$T/kg/o/keys/keys-enc-1.bin")
out=$(cd "$T/kg" && "$ESPFORGE" mfg gen config.csv values.csv enc 0x5000 --keygen --no-csv --outdir o --json 2>/dev/null)
echo "$out" | grep -q '"skipped":[[:space:]]*3' || fail "keygen resume: want 3 kept: $out"
[ "$(sha256sum < "$T/kg/o/keys/keys-enc-1.bin")" = "$k1" ] || fail "keygen resume: key file changed"
rm "$T/kg/o/keys/keys-enc-3.bin"
out=$(cd "$T/kg" && "$ESPFORGE" mfg gen config.csv values.csv enc 0x5000 --keygen --no-csv --outdir o --json 2>/dev/null)
echo "$out" | grep -q '"written":[[:space:]]*1' || fail "keygen resume: lost key not regenerated: $out"
[ -f "$T/kg/o/keys/keys-enc-3.bin" ] || fail "keygen resume: key file not rewritten"

# 7. usage errors
"$ESPFORGE" mfg_gen generate a.csv > /dev/null 2>&1; [ $? = 2 ] || fail "twin: missing args want exit 2"
"$ESPFORGE" mfg_gen generate a.csv b.csv p 0x3000 --ke > /dev/null 2>&1; [ $? = 2 ] || fail "twin: ambiguous option want exit 2"
"$ESPFORGE" mfg gen a.csv > /dev/null 2>&1; [ $? = 2 ] || fail "native: missing args want exit 2"

if [ $fails != 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "mfg: all checks passed"
