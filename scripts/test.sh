#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds twice (plain, and ASan+UBSan), runs CTest on
# both, then runs each libFuzzer target briefly when clang's fuzzer runtime is available
# (ESF_FUZZ_SECONDS, default 10; 0 skips; set ESF_FUZZ_SECONDS=60 for the issue's long runs).
set -eu
cd "$(dirname "$0")/.."
ESF_WITH_FUZZ=1 bash scripts/deps.sh || bash scripts/deps.sh
jobs=$(nproc)

echo "== build (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== ctest (release)"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DESF_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== ctest (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

secs=${ESF_FUZZ_SECONDS:-10}
if [ "$secs" != 0 ] && command -v clang >/dev/null && \
   echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}' \
   | clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  echo "== fuzz (${secs}s per target, ASan + UBSan)"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DESF_FUZZ=ON -DESF_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs"
  bash fuzz/run.sh build-fuzz "$secs"
else
  echo "== fuzz: skipped (clang with libFuzzer runtime not available, or ESF_FUZZ_SECONDS=0)"
fi
echo "== all tests passed"
