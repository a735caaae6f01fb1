#!/usr/bin/env bash
# A client that a standard generator makes from openapi.yaml works (issue 11): openapi-python-client
# (pinned, in its own virtualenv) generates a Python client with no error and no warning, and
# python_client_story.py plays the seed's story through it against the real binary.
# The virtualenv is made once, at $VATKERNEL_PYCLIENT_VENV (default ~/.cache/vatkernel/pyclient-venv).
source "$(dirname "$0")/lib/common.bash"

GENERATOR='openapi-python-client==0.29.1'
VENV="${VATKERNEL_PYCLIENT_VENV:-$HOME/.cache/vatkernel/pyclient-venv}"
if ! "$VENV/bin/python" -c 'import dateutil' 2>/dev/null \
   || [ "$("$VENV/bin/openapi-python-client" --version 2>/dev/null)" != "openapi-python-client version: 0.29.1" ]; then
  python3 -m venv "$VENV" || { echo "e2e: python3 -m venv failed (apt-get install python3-venv)"; exit 2; }
  "$VENV/bin/pip" install --quiet "$GENERATOR" 'python-dateutil==2.9.0.post0' || { echo "e2e: pip install $GENERATOR failed"; exit 2; }
fi

# No ruff here: the post hooks that would format the code are off, so they cannot warn.
printf 'post_hooks: []\n' >"$E2E_TMP/generator.yaml"
out="$(cd "$E2E_TMP" && "$VENV/bin/openapi-python-client" generate --path "$E2E_ROOT/openapi.yaml" \
  --meta none --output-path vatkernel_client --config generator.yaml 2>&1)"
rc=$?
printf '%s\n' "$out" | head -n 40
assert_eq "openapi-python-client generates the client" 0 "$rc"
assert_eq "with no warning or error: its whole output is one line" "Generating vatkernel_client" "$out"
assert_eq "every operation of openapi.yaml has its function" \
  "$(grep -c 'operationId:' "$E2E_ROOT/openapi.yaml")" "$(find "$E2E_TMP/vatkernel_client/api" -name '*.py' ! -name '__init__.py' | wc -l | tr -d ' ')"

start_server --db :memory:
PYTHONPATH="$E2E_TMP" "$VENV/bin/python" "$E2E_ROOT/Tests/e2e/python_client_story.py" "$URL" >"$E2E_TMP/story.txt" 2>&1
rc=$?
cat "$E2E_TMP/story.txt"
assert_eq "the seed's story through the generated client" 0 "$rc"
stop_server
finish
