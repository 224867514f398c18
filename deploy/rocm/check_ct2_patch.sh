#!/usr/bin/env bash
# Checks that ct2_rocm.patch applies to a CTranslate2 tag, without building anything.
#
#   deploy/rocm/check_ct2_patch.sh GIT_DIR [TAG]
#
# GIT_DIR is a clone (or bare mirror) of https://github.com/OpenNMT/CTranslate2 that has
# the tag; TAG defaults to the one pinned in Dockerfile.rocm. The tag's tree is exported
# with `git archive` into a temporary directory, then both `git apply --check` and
# `patch --dry-run` must accept the patch. Exit status 0 means it applies cleanly.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
git_dir="${1:?usage: $0 GIT_DIR [TAG]}"
tag="${2:-v$(sed -n 's/^ARG CT2_VERSION=//p' "$here/Dockerfile.rocm" | head -n 1)}"
patch_file="$here/ct2_rocm.patch"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -d "$git_dir/.git" ]; then git_dir="$git_dir/.git"; fi
git --git-dir="$git_dir" archive "$tag" src | tar -x -C "$tmp"
(cd "$tmp" && git apply --check --verbose "$patch_file")
(cd "$tmp" && patch -p1 --dry-run --silent < "$patch_file")
echo "ct2_rocm.patch applies cleanly to CTranslate2 $tag"
