#!/usr/bin/env bash
# Install rules: `cmake --install --prefix P` puts the program, the twins' symlinks, the headers,
# the libraries, espforge.pc and the CMake package under P, and an outside program builds against
# them both ways (pkg-config and find_package).
set -eu
if grep -q '^ESF_SANITIZE:BOOL=ON' "$ESF_BIN_DIR/CMakeCache.txt" || \
   grep -q '^ESF_FUZZ:BOOL=ON' "$ESF_BIN_DIR/CMakeCache.txt"; then
  echo "skip: sanitizer build (an outside program would need the sanitizer runtime)"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$ESF_BIN_DIR" --prefix "$tmp/p" >/dev/null
for t in espforge gen_esp32part nvs_partition_gen nvs_tool mfg_gen; do
  [ -x "$tmp/p/bin/$t" ] || fail "bin/$t not installed"
done
[ "$(readlink "$tmp/p/bin/gen_esp32part")" = espforge ] || fail "gen_esp32part is not a symlink to espforge"
"$tmp/p/bin/gen_esp32part" --help >/dev/null || fail "twin through the installed symlink"
[ -f "$tmp/p/include/espforge/error.h" ] || fail "headers not installed"
pc=$(find "$tmp/p" -name espforge.pc); [ -n "$pc" ] || fail "espforge.pc not installed"
cfg=$(find "$tmp/p" -name espforgeConfig.cmake); [ -n "$cfg" ] || fail "CMake package not installed"

# pkg-config, static link (the .pc must point into the install prefix, wherever it is)
export PKG_CONFIG_PATH=$(dirname "$pc")
inc=$(pkg-config --variable=includedir espforge)
[ "$(cd "$inc" && pwd)" = "$(cd "$tmp/p/include" && pwd)" ] || fail "pkg-config includedir $inc"
cc -o "$tmp/pc_consumer" "$ESF_SRC/tests/install/consumer.c" $(pkg-config --cflags espforge) \
   "$(pkg-config --variable=libdir espforge)/libespforge.a" $(pkg-config --libs-only-other --static libcrypto zlib libcjson) \
   -lcrypto -lz -lcjson -lpthread || fail "pkg-config consumer does not build"
"$tmp/pc_consumer" | grep -q "consumer ok 16384" || fail "pkg-config consumer does not run"
# shared library through pkg-config's plain flags
cc -o "$tmp/so_consumer" "$ESF_SRC/tests/install/consumer.c" $(pkg-config --cflags --libs espforge) \
   -Wl,-rpath,"$(pkg-config --variable=libdir espforge)" || fail "shared consumer does not build"
"$tmp/so_consumer" | grep -q "consumer ok" || fail "shared consumer does not run"

# CMake find_package
cmake -S "$ESF_SRC/tests/install" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/p" >/dev/null || fail "find_package(espforge)"
cmake --build "$tmp/cm" >/dev/null || fail "find_package consumer does not build"
"$tmp/cm/consumer" | grep -q "consumer ok" || fail "find_package consumer does not run"
echo "install: program, 4 twin symlinks, headers, pkg-config and CMake package all work"
