#!/usr/bin/env bash
# Record the reference nvs_tool.py's output on our NVS test images, as expectations for
# tests/cli/nvs_tool_twin.sh. Needs the ESP-IDF reference checkout (ESF_REF_DIR, default ../ref
# beside the repository, else /work/ref); skips cleanly without it. Run from anywhere:
#     bash tests/tools/regen_nvs_tool_expect.sh
# Writes tests/data/nvs-tool/expect/<image>/<mode>.{out,rc} where <image> is the case directory
# (vectors) or the corrupt image's name, and <mode> is text-<dump> | json-<dump> | check |
# color (= --color always -d all -i).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
ref=${ESF_REF_DIR:-$root/../ref}
[ -d "$ref/esp-idf" ] || ref=/work/ref
tool=$ref/esp-idf/components/nvs_flash/nvs_partition_tool/nvs_tool.py
py=${PYTHON:-/usr/bin/python3}
if [ ! -f "$tool" ]; then echo "SKIP: reference nvs_tool.py not found"; exit 0; fi
data=$root/tests/data
out=$data/nvs-tool/expect
rm -rf "$out"; mkdir -p "$out"
cd "$data"
images=$(ls nvs/n*/expected*.bin nvs-tool/corrupt/*.bin)
for img in $images; do
  case $img in
    nvs/*) name=$(basename "$(dirname "$img")")$(basename "$img" .bin | sed 's/^expected//') ;;
    *) name=$(basename "$img" .bin) ;;
  esac
  d=$out/$name; mkdir -p "$d"
  echo "$img" > "$d/image"
  for m in text-all text-written text-minimal text-namespaces text-blobs text-storage_info \
           json-all json-minimal check color; do
    color=never
    case $m in
      check) args=(-d none -i) ;;
      color) args=(-d all -i); color=always ;;
      *) args=(-f "${m%%-*}" -d "${m#*-}") ;;
    esac
    "$py" "$tool" --color $color "${args[@]}" "$img" > "$d/$m.out" 2> "$d/$m.err"
    echo $? > "$d/$m.rc"
    [ -s "$d/$m.err" ] || rm -f "$d/$m.err"
    # large outputs (json-all, full dumps) are stored compressed
    if [ "$(stat -c %s "$d/$m.out")" -gt 16384 ]; then gzip -n -9 -f "$d/$m.out"; fi
  done
done
echo "recorded $(ls "$out" | wc -l) images"

# command-line errors: stderr and exit code of argparse
u=$data/nvs-tool/usage; rm -rf "$u"; mkdir -p "$u"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  (cd "$data" && "$py" "$tool" $line > "$u/$n.out" 2> "$u/$n.err"; echo $? > "$u/$n.rc")
  echo "$line" > "$u/$n.args"
done <<'CASES'

-d bogus nvs/n01_primitives_v2/expected.bin
-d
--format xml nvs/n01_primitives_v2/expected.bin
--color rainbow nvs/n01_primitives_v2/expected.bin
--bogus nvs/n01_primitives_v2/expected.bin
nvs/n01_primitives_v2/expected.bin extra
-f json -d written nvs/n01_primitives_v2/expected.bin
--dump=minimal --col=never nvs/n12_namespaces/expected.bin
-dnamespaces nvs/n12_namespaces/expected.bin
-id none nvs/n12_namespaces/expected.bin
-f json nvs-tool/empty.bin
-i nvs-tool/empty.bin
-d storage_info nvs-tool/empty.bin
CASES
echo "recorded $n command lines"
