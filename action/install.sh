#!/usr/bin/env bash
# Install provscan for the provscan GitHub Action (action.yml), and print `bin=PATH` to
# $GITHUB_OUTPUT. Default: the release archive for this runner, run only after
# `gh attestation verify` proved it was built by provscan's release workflow from the tag it
# claims. With INPUT_INSTALL=cargo: `cargo install --locked` from crates.io instead.
#
# Environment: PROVSCAN_REPOSITORY (owner/repo of the releases), INPUT_VERSION (vX.Y.Z, X.Y.Z or
# empty), INPUT_INSTALL (release|cargo), ACTION_REF (the ref the action was used at), GH_TOKEN,
# RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT.
set -euo pipefail

repo="${PROVSCAN_REPOSITORY:?}"
if [[ ! "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
  echo "::error::provscan: repository '$repo' is not owner/name" >&2
  exit 1
fi
semver='^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'

version="${INPUT_VERSION:-}"
if [[ -z "$version" ]]; then
  # The action's own tag picks the matching binary; a branch or SHA ref picks the latest release.
  if [[ "${ACTION_REF:-}" =~ $semver ]]; then version="$ACTION_REF"; else version=latest; fi
fi
if [[ "$version" != latest && ! "$version" =~ $semver ]]; then
  echo "::error::provscan: version '$version' is not 'latest' or a version like v1.2.3" >&2
  exit 1
fi

root="$RUNNER_TEMP/provscan-install"
rm -rf "$root"
mkdir -p "$root"

case "${INPUT_INSTALL:-release}" in
  cargo)
    args=(install --locked --root "$root" provscan)
    [[ "$version" != latest ]] && args+=(--version "=${version#v}")
    cargo "${args[@]}"
    bin="$root/bin/provscan"
    [[ "${RUNNER_OS:-}" == Windows ]] && bin="$bin.exe"
    ;;
  release)
    case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
      Linux/X64) target=x86_64-unknown-linux-musl ;;
      Linux/ARM64) target=aarch64-unknown-linux-musl ;;
      macOS/ARM64) target=aarch64-apple-darwin ;;
      macOS/X64) target=x86_64-apple-darwin ;;
      Windows/X64) target=x86_64-pc-windows-msvc ;;
      *)
        echo "::error::provscan: no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; set 'install: cargo'" >&2
        exit 1
        ;;
    esac
    if [[ "$version" == latest ]]; then
      version="$(gh release view --repo "$repo" --json tagName --jq .tagName)"
      if [[ ! "$version" =~ $semver ]]; then
        echo "::error::provscan: the latest release's tag '$version' is not a version" >&2
        exit 1
      fi
    fi
    [[ "$version" == v* ]] || version="v$version"
    ext=tar.gz
    [[ "$target" == *windows* ]] && ext=zip
    name="provscan-$version-$target"
    gh release download "$version" --repo "$repo" --pattern "$name.$ext" --dir "$root"
    # Nothing from the archive runs before this check passes: built by the release workflow of
    # this repository, from this tag, on a GitHub-hosted runner.
    gh attestation verify "$root/$name.$ext" \
      --repo "$repo" \
      --signer-workflow "$repo/.github/workflows/release.yml" \
      --source-ref "refs/tags/$version" \
      --deny-self-hosted-runners
    if [[ "$ext" == zip ]]; then
      if command -v unzip >/dev/null; then
        unzip -q "$root/$name.$ext" -d "$root"
      else
        # shellcheck disable=SC2016 # PowerShell expands $env:..., not bash
        ARCHIVE="$root/$name.$ext" DEST="$root" pwsh -NoProfile -Command \
          'Expand-Archive -LiteralPath $env:ARCHIVE -DestinationPath $env:DEST' </dev/null
      fi
      bin="$root/$name/provscan.exe"
    else
      tar -xzf "$root/$name.$ext" -C "$root"
      bin="$root/$name/provscan"
    fi
    ;;
  *)
    echo "::error::provscan: install must be 'release' or 'cargo', not '${INPUT_INSTALL}'" >&2
    exit 1
    ;;
esac

if [[ ! -x "$bin" ]]; then
  echo "::error::provscan: $bin was not installed" >&2
  exit 1
fi
"$bin" --version
echo "bin=$bin" >>"$GITHUB_OUTPUT"
