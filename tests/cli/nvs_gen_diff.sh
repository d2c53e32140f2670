#!/usr/bin/env bash
# Differential check of the nvs_partition_gen twin against the reference generator on 40 random
# CSVs (bench/nvs_diff.py, fixed seed). Skips (exit 0) when /usr/bin/python3 or the
# reference (ESF_REF_DIR, ../ref, /work/ref) is absent, so a fresh clone passes without it.
set -u
: "${ESPFORGE:?}" "${ESF_SRC:?}"
if [ ! -x /usr/bin/python3 ]; then echo "SKIP: /usr/bin/python3 absent"; exit 0; fi
seed=7
ESPFORGE=$ESPFORGE /usr/bin/python3 "$ESF_SRC/bench/nvs_diff.py" 40 "$seed"
