#!/usr/bin/env bash
# The contract test: openapi.yaml is a valid OpenAPI 3.1 document, and schemathesis, run
# against the real binary, finds no failure (no 500, no answer that breaks the schema, no
# undocumented status, no auth that is not enforced, 405 with Allow for other methods).
# Needs: pip install schemathesis openapi-spec-validator.
source "$(dirname "$0")/lib/common.bash"

for tool in schemathesis openapi-spec-validator; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is required (pip install schemathesis openapi-spec-validator)"; exit 2; }
done

out="$(openapi-spec-validator "$E2E_ROOT/openapi.yaml" 2>&1)"
assert_eq "openapi-spec-validator openapi.yaml" "$E2E_ROOT/openapi.yaml: OK" "$out"

ADMIN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_server --db :memory: --admin-token "$ADMIN" --read-timeout 30

# A few vats and references first, so generated requests meet real state, not only 404s.
TOKEN="$ADMIN"
do_curl POST /vats '{"name":"alice"}'
do_curl POST /vats '{"name":"bob"}'
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs hello ko20),\"result\":\"keep\"}"
assert_status "seed state for schemathesis" 202

# One worker: hypothesis' lambda descriptions are not thread-safe on every Python (a
# "SystemError: AST constructor recursion depth mismatch" in schemathesis itself).
report="$E2E_TMP/schemathesis.txt"
schemathesis --config-file "$E2E_ROOT/Tests/e2e/schemathesis.toml" run "$E2E_ROOT/openapi.yaml" \
  --url "$URL" -H "Authorization: Bearer $ADMIN" --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" --seed "${SCHEMATHESIS_SEED:-20260101}" \
  --workers 1 --no-color --request-timeout 30 >"$report" 2>&1
rc=$?
# Keep the useful part: the failures and the summary.
grep -v '^\s*$' "$report" | tail -n 80
assert_eq "schemathesis run --checks all finds no failure" 0 "$rc"

do_curl GET /healthz
assert_status "the server is still alive after the run" 200
finish
