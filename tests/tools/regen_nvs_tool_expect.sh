#!/usr/bin/env bash
# Record the reference nvs_tool.py's output on our NVS test images, as expectations for
# tests/cli/nvs_tool_twin.sh. Needs the ESP-IDF reference checkout (ESF_REF_DIR, default ../ref
# beside the repository, else /work/ref); skips cleanly without it. Run from anywhere:
#     bash tests/tools/regen_nvs_tool_expect.sh
# Writes tests/data/nvs-tool/expect/<image>/<mode>.{out,rc} where <image> is the case directory
# (vectors) or the corrupt image's name, and <mode> is text-<dump> | json-<dump> | check.
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
           json-all json-minimal check; do
    case $m in
      check) args=(-d none -i) ;;
      *) args=(-f "${m%%-*}" -d "${m#*-}") ;;
    esac
    "$py" "$tool" --color never "${args[@]}" "$img" > "$d/$m.out" 2> "$d/$m.err"
    echo $? > "$d/$m.rc"
    [ -s "$d/$m.err" ] || rm -f "$d/$m.err"
  done
done
echo "recorded $(ls "$out" | wc -l) images"
