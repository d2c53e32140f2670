#!/usr/bin/env bash
# The nvs_tool twin against the reference's recorded output (tests/data/nvs-tool/expect, made by
# tests/tools/regen_nvs_tool_expect.sh): every image x every dump mode (text and json), -i, and
# --color always,
# stdout and exit code identical. Cases where the reference crashes (exit != 0) are skipped here
# (documented deviations) and listed.
set -u
: "${ESPFORGE:?}" "${ESF_DATA:?}"
cd "$ESF_DATA"
pass=0; fail=0; skipped=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for d in nvs-tool/expect/*/; do
  img=$(cat "$d/image")
  for rcf in "$d"*.rc; do
    m=$(basename "$rcf" .rc)
    want_rc=$(cat "$rcf")
    if [ "$want_rc" != 0 ]; then skipped=$((skipped + 1)); continue; fi
    color=never
    case $m in
      check) args=(-d none -i) ;;
      color) args=(-d all -i); color=always ;;
      *) args=(-f "${m%%-*}" -d "${m#*-}") ;;
    esac
    "$ESPFORGE" nvs_tool --color $color "${args[@]}" "$img" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ -f "$d/$m.out.gz" ]; then zcat "$d/$m.out.gz" > "$tmp/want"; else cp "$d/$m.out" "$tmp/want"; fi
    if [ $rc != "$want_rc" ] || ! cmp -s "$tmp/out" "$tmp/want"; then
      echo "FAIL: $img $m (rc $rc, want $want_rc)"; diff "$tmp/want" "$tmp/out" | head -5
      fail=$((fail + 1))
    else
      pass=$((pass + 1))
    fi
  done
done
# command lines: exit code, stdout, and the last stderr line (argparse's message, or the last line
# of the reference's traceback)
for a in nvs-tool/usage/*.args; do
  n=${a%.args}
  # shellcheck disable=SC2046
  "$ESPFORGE" nvs_tool $(cat "$a") > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ $rc != "$(cat "$n.rc")" ] || ! cmp -s "$tmp/out" "$n.out" || \
     [ "$(tail -1 "$tmp/err")" != "$(tail -1 "$n.err")" ]; then
    echo "FAIL: nvs_tool $(cat "$a"): rc $rc want $(cat "$n.rc")"; tail -1 "$tmp/err"; tail -1 "$n.err"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
done
# usage lines on stderr are the reference's too
"$ESPFORGE" nvs_tool 2> "$tmp/err"; if ! cmp -s "$tmp/err" nvs-tool/usage/1.err; then
  echo "FAIL: usage text differs"; diff nvs-tool/usage/1.err "$tmp/err"; fail=$((fail + 1)); fi
# the symlink twin runs the same code
if [ -n "${ESF_BIN_DIR:-}" ] && [ -x "$ESF_BIN_DIR/nvs_tool" ]; then
  "$ESF_BIN_DIR/nvs_tool" --color never -d minimal nvs/n12_namespaces/expected.bin > "$tmp/out"
  if ! cmp -s "$tmp/out" nvs-tool/expect/n12_namespaces/text-minimal.out; then
    echo "FAIL: symlink nvs_tool"; fail=$((fail + 1)); fi
fi
echo "nvs_tool twin: $pass outputs identical, $fail different, $skipped skipped (reference crashes)"
[ $fail = 0 ] && [ $pass -gt 0 ]
