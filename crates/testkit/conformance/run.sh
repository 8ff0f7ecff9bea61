#!/usr/bin/env bash
# Official-SDK conformance suite: drives `agb serve` with agbcloud-sdk==0.12.0.
#
#   crates/testkit/conformance/run.sh [pytest args...]
#
# Environment:
#   AGB_BIN                  server binary (default: build it, then target/debug/agb)
#   AGB_CONFORMANCE_VENV     venv location (default: target/conformance-venv)
#   AGB_CONFORMANCE_LOG_DIR  where server logs go (default: a pytest temp dir)
#   PYTHON                   interpreter for the venv (default: python3, >= 3.10)
#
# Exit status is pytest's: non-zero when any test fails or errors.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

venv="${AGB_CONFORMANCE_VENV:-target/conformance-venv}"
[[ "$venv" = /* ]] || venv="$root/$venv"
python="${PYTHON:-python3}"
req="$here/requirements.txt"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "conformance: need Python >= 3.10 (set PYTHON); found: $("$python" --version 2>&1 || echo none)" >&2
    exit 2
fi

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "conformance: creating venv at $venv"
    "$python" -m venv "$venv"
fi
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
    echo "conformance: installing $req"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
fi

if [[ -z "${AGB_BIN:-}" ]]; then
    cargo build --quiet -p agbcloud-cli
    target_dir="${CARGO_TARGET_DIR:-target}"
    [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
    export AGB_BIN="$target_dir/debug/agb"
fi

# The SDK loads ./.env; run from the suite's directory so a developer's .env
# in the repository root cannot redirect the tests away from the local server.
cd "$here"
exec "$venv/bin/python" -m pytest -q "$@"
