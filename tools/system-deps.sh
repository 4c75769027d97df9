#!/usr/bin/env bash
# Installs the Debian packages the app and its tests need, only when one is missing.
#   fonts-wqy-microhei  CJK font for PDFs (much faster to subset than Noto CJK; see README)
#   libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  WeasyPrint's text layout
#   poppler-utils       pdftotext / pdftoppm, used by tests to read PDFs back
#   chromium            headless browser tests (Playwright drives Debian's build)
#   wrk                 the HTTP load generator of `make bench`
set -euo pipefail
want=(fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils chromium wrk)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
