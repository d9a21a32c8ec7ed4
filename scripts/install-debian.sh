#!/usr/bin/env bash
# Installs the Debian packages Recap needs, only those missing, so a second run is instant.
# Versions are those of Debian bookworm (FFmpeg 5.1, SQLite 3.40, Tesseract 5.3).
set -euo pipefail
packages=(
  pkg-config cmake
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libsqlite3-dev
  libtesseract-dev tesseract-ocr tesseract-ocr-eng
  ffmpeg espeak-ng fonts-dejavu-core hyperfine time unzip
  python3 python3-jsonschema python3-numpy
  pocketsphinx-testdata
  postgresql-15  # StoreContractTests start a throwaway PostgreSQL 15 cluster (initdb, pg_ctl) from /usr/lib/postgresql/15/bin
  openssl  # the TLS tests make a throwaway certificate authority and server certificate
  chromium chromium-driver  # WebTests drive headless Chromium over WebDriver (recap serve's pages)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "Installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
