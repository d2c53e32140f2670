#!/usr/bin/env bash
# Every partition golden vector (tests/data/partition*/, from the reference gen_esp32part.py v6.0.2)
# reproduced by the drop-in twin: same output bytes, same stderr text, same exit status. The one
# case where the reference crashes (exit 1, traceback) must instead exit 2 with a message and
# leave no output file.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; n=0
while IFS='|' read -r dir want cmd; do
  case "$dir" in '#'*|'') continue;; esac
  n=$((n + 1))
  work="$tmp/$n"; mkdir -p "$work"; cp -r "$ESF_DATA/$dir/." "$work/"
  # shellcheck disable=SC2086
  set -- $cmd
  args=("$@")
  last=${args[${#args[@]}-1]}
  out=""
  if [ "$want" = 0 ]; then   # generate under a fresh name, compare with the stored expectation
    out=$last; args[${#args[@]}-1]="got.$last"
  fi
  (cd "$work" && "$ESPFORGE" gen_esp32part "${args[@]}" >stdout 2>stderr); rc=$?
  if [ "$want" = 0 ]; then
    if [ $rc != 0 ]; then echo "FAIL $dir: $cmd: exit $rc"; cat "$work/stderr"; fail=1; continue; fi
    if ! cmp -s "$work/got.$out" "$ESF_DATA/$dir/$out"; then echo "FAIL $dir: $cmd: $out differs"; fail=1; fi
    if [ -s "$work/stderr" ] && [ "$dir" != partition/p11_name_lengths ] && [ "$dir" != partition/p16_bootloader_ptable_entries ]; then
      echo "FAIL $dir: unexpected stderr:"; cat "$work/stderr"; fail=1
    fi
  else
    exp=$want; [ "$dir" = partition-invalid/pi15_type_out_of_range ] && exp=2
    if [ $rc != "$exp" ]; then echo "FAIL $dir: exit $rc, want $exp"; cat "$work/stderr"; fail=1; fi
    if [ -e "$work/out.bin" ]; then echo "FAIL $dir: out.bin left behind"; fail=1; fi
    if [ "$exp" = "$want" ]; then
      if ! cmp -s "$work/stderr" "$ESF_DATA/$dir/expected_error.txt"; then
        echo "FAIL $dir: stderr differs"; diff "$work/stderr" "$ESF_DATA/$dir/expected_error.txt"; fail=1
      fi
    elif ! grep -q "type 0x100 does not fit" "$work/stderr"; then
      echo "FAIL $dir: want a clear out-of-range message, got:"; cat "$work/stderr"; fail=1
    fi
  fi
done < "$ESF_DATA/partition/CASES"
echo "part_vectors: $n commands checked"
[ $n -ge 59 ] || { echo "FAIL: only $n commands"; fail=1; }
exit $fail
