#!/usr/bin/env bash
# Run provscan for the provscan GitHub Action (action.yml): a JSON report, then SARIF and the
# Markdown step summary rendered from the same answers (--offline: from the cache, no request),
# then the outputs `exit-code`, `report`, `sarif` and `coverage` on $GITHUB_OUTPUT. Never fails
# itself on a failed policy: action.yml's last step exits with provscan's code.
#
# Pull-request mode (INPUT_PULL_REQUEST=true, or auto on pull_request events): the pull request
# must not choose its own policy or registries, so the policy file comes from the base commit
# (BASE_SHA), --no-project-config ignores registry settings in the head's tree, and the base
# commit's lockfiles are scanned first as the baseline, so only what the pull request makes new
# or worse fails.
#
# Environment: PROVSCAN_BIN, INPUT_PATH, INPUT_ARGS, INPUT_FAIL_ON, INPUT_MIN_COVERAGE,
# INPUT_CONFIG, INPUT_BASELINE, INPUT_SARIF, INPUT_STEP_SUMMARY, INPUT_PULL_REQUEST,
# EVENT_NAME, BASE_SHA, RUNNER_TEMP, GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
set -euo pipefail

bin="${PROVSCAN_BIN:?}"
out="$RUNNER_TEMP/provscan"
rm -rf "$out"
mkdir -p "$out"
workspace="${GITHUB_WORKSPACE:-$PWD}"
cd "$workspace"

scan_path="${INPUT_PATH:-.}"
case "$scan_path" in
  /* | ../* | .. | */../* | */..)
    echo "::error::provscan: path '$scan_path' must stay inside the workspace" >&2
    exit 2
    ;;
esac

truthy() { [[ "$1" == true || "$1" == 1 || "$1" == yes ]]; }

pr_mode=false
case "${INPUT_PULL_REQUEST:-auto}" in
  true) pr_mode=true ;;
  false) ;;
  auto) [[ "${EVENT_NAME:-}" == pull_request ]] && pr_mode=true ;;
  *)
    echo "::error::provscan: pull-request must be auto, true or false" >&2
    exit 2
    ;;
esac

# Policy flags, shared by every run so the three outputs agree.
policy=()
[[ -n "${INPUT_FAIL_ON:-}" ]] && policy+=(--fail-on "$INPUT_FAIL_ON")
if [[ -n "${INPUT_MIN_COVERAGE:-}" ]]; then
  read -r -a thresholds <<<"${INPUT_MIN_COVERAGE//,/ }"
  for t in ${thresholds[@]+"${thresholds[@]}"}; do policy+=(--min-coverage "$t"); done
fi
# Extra arguments: split on whitespace, never evaluated by a shell.
extra=()
[[ -n "${INPUT_ARGS:-}" ]] && read -r -a extra <<<"$INPUT_ARGS"

if $pr_mode; then
  if [[ ! "${BASE_SHA:-}" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]]; then
    echo "::error::provscan: pull-request mode needs the base commit (github.event.pull_request.base.sha)" >&2
    exit 2
  fi
  if ! "$bin" --help | grep -q -- '--no-project-config'; then
    echo "::error::provscan: this provscan has no --no-project-config; pull-request mode needs a newer release" >&2
    exit 2
  fi
  if ! git cat-file -e "$BASE_SHA^{commit}" 2>/dev/null; then
    git fetch --no-tags --depth=1 origin "$BASE_SHA" || {
      echo "::error::provscan: cannot fetch the base commit $BASE_SHA; check out with fetch-depth: 0" >&2
      exit 2
    }
  fi
  base="$out/base-tree"
  mkdir -p "$base"
  git archive --format=tar "$BASE_SHA" | tar -xf - -C "$base"
  # The policy file as the base branch has it (an empty policy when it has none): never the
  # pull request's own.
  config_rel="${INPUT_CONFIG:-$scan_path/provscan.toml}"
  config="$out/base-provscan.toml"
  if [[ -f "$base/$config_rel" ]]; then
    cp "$base/$config_rel" "$config"
  else
    : >"$config"
    [[ -n "${INPUT_CONFIG:-}" ]] && echo "::warning::provscan: the base commit has no $config_rel; using the default policy"
  fi
  policy+=(--config "$config" --no-project-config)
  if [[ -n "${INPUT_BASELINE:-}" ]]; then
    baseline="$INPUT_BASELINE"
  else
    baseline="$out/base.json"
    rc=0
    "$bin" "$base/$scan_path" --format json --output "$baseline" \
      ${policy[@]+"${policy[@]}"} ${extra[@]+"${extra[@]}"} || rc=$?
    if [[ $rc -eq 2 ]]; then
      echo "::warning::provscan: the base commit could not be scanned; reporting without a baseline"
      baseline=""
    fi
  fi
else
  [[ -n "${INPUT_CONFIG:-}" ]] && policy+=(--config "$INPUT_CONFIG")
  baseline="${INPUT_BASELINE:-}"
fi
[[ -n "$baseline" ]] && policy+=(--baseline "$baseline")

report="$out/provscan.json"
rc=0
"$bin" "$scan_path" --format json --output "$report" \
  ${policy[@]+"${policy[@]}"} ${extra[@]+"${extra[@]}"} || rc=$?
echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
if [[ $rc -eq 2 ]]; then
  echo "::error::provscan: usage or input error (exit 2); no report was written"
  exit 0
fi
echo "report=$report" >>"$GITHUB_OUTPUT"

# The same answers in other formats: from the cache, unless the caller turned the cache off.
again=(--offline)
for a in ${extra[@]+"${extra[@]}"}; do [[ "$a" == --no-cache ]] && again=(); done
render() {
  local status=0
  "$bin" "$scan_path" ${again[@]+"${again[@]}"} ${policy[@]+"${policy[@]}"} \
    ${extra[@]+"${extra[@]}"} "$@" || status=$?
  [[ $status -ne 2 ]]
}
if truthy "${INPUT_SARIF:-true}"; then
  render --format sarif --output "$out/provscan.sarif"
  echo "sarif=$out/provscan.sarif" >>"$GITHUB_OUTPUT"
fi
if truthy "${INPUT_STEP_SUMMARY:-true}" && [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  render --format markdown --output "$out/provscan.md"
  cat "$out/provscan.md" >>"$GITHUB_STEP_SUMMARY"
fi

# Coverage: registry packages verified, attested or trusted-publisher, in percent (one decimal);
# empty when there is none.
coverage="$(jq -r '.summary as $s
  | ($s.direct.total + $s.transitive.total) as $t
  | if $t == 0 then "" else (1000 * ($s.direct.covered + $s.transitive.covered) / $t | round / 10 | tostring) end' \
  "$report")"
echo "coverage=$coverage" >>"$GITHUB_OUTPUT"
