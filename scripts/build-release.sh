#!/usr/bin/env bash
# scripts/build-release.sh — builds a product the way it is deployed and benchmarked, and prints its path:
#
#   swift build -c release --static-swift-stdlib --product PRODUCT --scratch-path .build-release-static
#
# The Swift runtime and Foundation are linked into the executable instead of loaded as shared libraries, as the
# Swift server guides recommend for deployment: nothing to install next to the binary but the C libraries, and
# calls into the runtime (reference counting above all) are direct calls instead of calls through the dynamic
# linker's tables. docs/performance.md gives the difference: about a fifth less user CPU per decision in
# `scopegate authz`.
#
# `scopegate` links FoundationNetworking (its URLSession fetcher), whose static library links libcurl: the link
# needs libcurl's development files (`libcurl.so`), which this script installs with apt-get (libcurl4-openssl-dev)
# when it runs as root and they are missing. `scopegate-gateway` fetches with AsyncHTTPClient and needs nothing.
#
# Usage: scripts/build-release.sh [PRODUCT]      (default scopegate-gateway; prints the executable's path)
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
product=${1:-scopegate-gateway}
scratch=.build-release-static

# Whether the linker can find libcurl.so (the development symlink; the runtime library alone is libcurl.so.4).
curl_dev() { compgen -G '/usr/lib/*/libcurl.so' >/dev/null || compgen -G '/usr/lib*/libcurl.so' >/dev/null; }
if [[ $product == scopegate ]] && ! curl_dev; then
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    timeout 300 apt-get install -y -qq libcurl4-openssl-dev >/dev/null \
      || { echo "build-release: apt-get install libcurl4-openssl-dev failed" >&2; exit 1; }
  else
    echo "build-release: linking scopegate statically needs libcurl's development files" \
      "(apt-get install libcurl4-openssl-dev)" >&2
    exit 1
  fi
fi
timeout 3600 swift build -c release --static-swift-stdlib --product "$product" --scratch-path "$scratch" >&2
echo "$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/$product"
