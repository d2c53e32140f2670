#!/usr/bin/env bash
# Real partition tables (ESP-IDF's predefined CSVs, ESP-Jumpstart's smart-plug tables, esptool's
# test table binary) against expectations made by running the reference gen_esp32part.py v6.0.2
# (tests/data/README.md): the twin and `espforge part gen` write the reference's binary, the twin
# renders the reference's CSV, CSV -> bin -> CSV -> bin is the identity, and every predefined
# table is also built in (`espforge part builtin NAME -o`).
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
bad() { echo "FAIL $*"; fail=1; }
for d in "$ESF_DATA"/partition-real/*/; do
  d=${d%/}; name=$(basename "$d")
  if [ -f "$d/input.bin" ]; then
    "$ESPFORGE" gen_esp32part -q "$d/input.bin" "$tmp/$name.csv" 2>"$tmp/err"; rc=$?
    [ "$rc" = "$(cat "$d/expected_exit")" ] || bad "$name: exit $rc"
    cmp -s "$tmp/err" "$d/expected_error.txt" || bad "$name: stderr differs"
    [ -e "$tmp/$name.csv" ] && bad "$name: output left behind"
    n=$((n + 1)); continue
  fi
  n=$((n + 1))
  "$ESPFORGE" gen_esp32part -q "$d/input.csv" "$tmp/twin.bin" || bad "$name: twin failed"
  cmp -s "$tmp/twin.bin" "$d/expected.bin" || bad "$name: twin binary differs"
  "$ESPFORGE" part gen -q "$d/input.csv" "$tmp/native.bin" || bad "$name: part gen failed"
  cmp -s "$tmp/native.bin" "$d/expected.bin" || bad "$name: part gen binary differs"
  "$ESPFORGE" gen_esp32part -q "$d/expected.bin" "$tmp/back.csv" || bad "$name: bin->csv failed"
  cmp -s "$tmp/back.csv" "$d/expected.csv" || bad "$name: rendered CSV differs"
  "$ESPFORGE" gen_esp32part -q "$tmp/back.csv" "$tmp/again.bin" || bad "$name: csv->bin failed"
  cmp -s "$tmp/again.bin" "$d/expected.bin" || bad "$name: bin->csv->bin is not the identity"
  "$ESPFORGE" part show --csv "$d/expected.bin" > "$tmp/show.csv" || bad "$name: part show failed"
  cmp -s "$tmp/show.csv" "$d/expected.csv" || bad "$name: part show --csv differs"
  "$ESPFORGE" part check "$d/input.csv" >/dev/null || bad "$name: part check failed"
  case $name in partitions_*)
    "$ESPFORGE" part builtin "${name#partitions_}" > "$tmp/builtin.csv" || bad "$name: builtin missing"
    cmp -s "$tmp/builtin.csv" "$d/input.csv" || bad "$name: builtin CSV text differs"
    "$ESPFORGE" part builtin "${name#partitions_}" -o "$tmp/builtin.bin" || bad "$name: builtin -o failed"
    cmp -s "$tmp/builtin.bin" "$d/expected.bin" || bad "$name: builtin binary differs";;
  esac
done
# every built-in table is one of the checked ones
for b in $("$ESPFORGE" part builtin); do
  [ -d "$ESF_DATA/partition-real/partitions_$b" ] || bad "builtin $b has no expectation"
done
echo "part_real: $n tables checked"
[ $n -ge 15 ] || bad "only $n tables"
exit $fail
