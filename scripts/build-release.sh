#!/usr/bin/env bash
# scripts/build-release.sh — builds a product the way it is deployed and benchmarked, and prints its path:
#
#   swift build -c release --static-swift-stdlib --product PRODUCT --scratch-path .build-release-static \
#     -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic [-Xlinker -z -Xlinker pack-relative-relocs]
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
# On macOS it builds `-c release` only (the runtime ships with the OS).
#
# Usage: scripts/build-release.sh [PRODUCT]      (default scopegate-gateway; prints the executable's path)
set -euo pipefail
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.."
product=${1:-scopegate-gateway}
scratch=.build-release-static

# Whether the linker can find libcurl.so (the development symlink; the runtime library alone is libcurl.so.4).
curl_dev() { compgen -G '/usr/lib/*/libcurl.so' >/dev/null || compgen -G '/usr/lib*/libcurl.so' >/dev/null; }

if [[ $(uname -s) != Linux ]]; then
  # On Apple platforms the Swift runtime ships with the OS and the ELF link flags below do not apply.
  flags=(-c release --scratch-path "$scratch")
else
  if [[ $product == scopegate ]] && ! curl_dev; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
      timeout 300 apt-get update -qq >/dev/null || true
      timeout 300 apt-get install -y -qq libcurl4-openssl-dev >/dev/null \
        || { echo "build-release: apt-get install libcurl4-openssl-dev failed" >&2; exit 1; }
    else
      echo "build-release: linking scopegate statically needs libcurl's development files" \
        "(apt-get install libcurl4-openssl-dev)" >&2
      exit 1
    fi
  fi
  # Linked with lld, exporting no symbols and, where the C library's loader reads them (glibc 2.36 and later),
  # with relative relocations packed (DT_RELR): the toolchain's static-stdlib link exports every symbol of the
  # executable's own code, and a position-independent executable carries one 24-byte relocation per pointer to
  # fix at start-up. Both are read in full when the process starts, and stay resident: 4.9 MB of the gateway's
  # idle RSS (docs/performance.md). The executable stays position-independent.
  flags=(-c release --static-swift-stdlib --scratch-path "$scratch" -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic)
  glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
  if [[ -n $glibc ]] && printf '2.36\n%s\n' "$glibc" | sort -V -C; then
    flags+=(-Xlinker -z -Xlinker pack-relative-relocs)
  fi
fi
timeout 3600 swift build "${flags[@]}" --product "$product" >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/$product"
