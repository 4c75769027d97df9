#!/usr/bin/env bash
# pip-audit on the pinned requirements against PyPI's vulnerability data (needs the network).
# Exit 0: audited, no known vulnerability. 1: known vulnerabilities (listed).
# 3: NOT audited, because the vulnerability service could not be reached; said loudly, never
# passed off as a clean result (pip-audit alone reports "No known vulnerabilities found" then).
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
.venv/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements.txt >"$out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  grep -v -e "--no-deps is supported" -e "pip-compile" "$out"
  echo "pip-audit: every pinned requirement audited, no known vulnerability"
  exit 0
fi
if grep -q -E "not found on PyPI and could not be audited|ConnectionError|Max retries exceeded|Name or service not known|Could not resolve|timed out" "$out"; then
  grep -m 3 -E "ERROR|Error" "$out" >&2
  echo "pip-audit: NOT AUDITED - the vulnerability service (PyPI JSON API) could not be reached from this machine." >&2
  echo "pip-audit: run 'make audit' where pypi.org answers before a release (see README, Security)." >&2
  exit 3
fi
cat "$out"
exit "$rc"
