#!/usr/bin/env bash
# Test action/scan.sh with a stand-in provscan that records its arguments: pull-request mode
# takes the policy from the base commit (never the head's), adds --no-project-config and the
# base scan as --baseline, passes the same policy to every render, and sets the outputs.
# Run by .ci/lint-actions; needs git and jq.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/provscan" <<'STUB'
#!/usr/bin/env bash
[[ "$1" == --help ]] && { echo "  --no-project-config"; exit 0; }
echo "$*" >>"$LOG"
prev=""
for a in "$@"; do
  [[ "$prev" == --output ]] && echo '{"summary":{"direct":{"covered":2,"total":3},"transitive":{"covered":1,"total":5}}}' >"$a"
  prev="$a"
done
exit "${STUB_RC:-1}"
STUB
chmod +x "$tmp/provscan"

ws="$tmp/ws"
mkdir -p "$ws"
git -C "$ws" init -q
echo 'fail-on = ["none"]   # base' >"$ws/provscan.toml"
git -C "$ws" add provscan.toml
git -C "$ws" -c user.email=t@example.invalid -c user.name=t commit -qm base
base="$(git -C "$ws" rev-parse HEAD)"
echo 'fail-on = []   # head' >"$ws/provscan.toml"
git -C "$ws" -c user.email=t@example.invalid -c user.name=t commit -qam head

run() {
  : >"$tmp/log"
  : >"$tmp/out"
  env -i PATH="$PATH" HOME="$tmp" LOG="$tmp/log" PROVSCAN_BIN="$tmp/provscan" \
    RUNNER_TEMP="$tmp/runner" GITHUB_WORKSPACE="$ws" GITHUB_OUTPUT="$tmp/out" \
    GITHUB_STEP_SUMMARY="$tmp/summary" INPUT_ARGS="--no-verify  --timeout 5" \
    INPUT_MIN_COVERAGE="60, npm=80" INPUT_FAIL_ON=invalid BASE_SHA="$base" "$@" \
    bash "$here/scan.sh"
}
fail() { echo "action/test-scan.sh: $*" >&2; exit 1; }

run EVENT_NAME=pull_request
[[ "$(wc -l <"$tmp/log")" -eq 4 ]] || fail "expected 4 runs (base, head, sarif, markdown): $(cat "$tmp/log")"
grep -q '# base' "$tmp/runner/provscan/base-provscan.toml" || fail "policy not taken from the base commit"
head -n 1 "$tmp/log" | grep -q "base-tree/. --format json" || fail "base commit not scanned first"
sed -n 2,4p "$tmp/log" | grep -c -- "--config $tmp/runner/provscan/base-provscan.toml --no-project-config --baseline $tmp/runner/provscan/base.json" |
  grep -qx 3 || fail "head runs lack the base policy or baseline: $(cat "$tmp/log")"
grep -c -- "--fail-on invalid --min-coverage 60 --min-coverage npm=80" "$tmp/log" | grep -qx 4 ||
  fail "policy flags differ between runs"
sed -n 3,4p "$tmp/log" | grep -c -- "--offline" | grep -qx 2 || fail "renders are not --offline"
grep -qx "exit-code=1" "$tmp/out" || fail "exit-code output: $(cat "$tmp/out")"
grep -qx "coverage=37.5" "$tmp/out" || fail "coverage output: $(cat "$tmp/out")"
grep -q "^report=" "$tmp/out" || fail "no report output"

run EVENT_NAME=push
[[ "$(wc -l <"$tmp/log")" -eq 3 ]] || fail "push: expected 3 runs: $(cat "$tmp/log")"
grep -q -- "--no-project-config\|--baseline" "$tmp/log" && fail "push run used pull-request mode"

run EVENT_NAME=push STUB_RC=2
grep -qx "exit-code=2" "$tmp/out" || fail "exit 2 not reported"
grep -q "^report=" "$tmp/out" && fail "exit 2 must not name a report"

if run EVENT_NAME=push INPUT_PATH=../outside 2>/dev/null; then fail "a path outside the workspace was accepted"; fi
echo "action/test-scan.sh: ok (4 scenarios)"
