#!/usr/bin/env bash
# Vendors htmx's server-sent events extension from the npm package
# htmx-ext-sse at the pinned version into static/, as vendor-htmx.sh does
# for htmx. The results page uses it to follow a count live. The result
# is committed, so building Runoff needs no npm.
set -euo pipefail
version=${1:-$(cat static/HTMX_EXT_SSE_VERSION)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx-ext-sse@$version" >/dev/null && tar xzf "htmx-ext-sse-$version.tgz")
cp "$tmp/package/dist/sse.min.js" static/htmx-ext-sse.min.js
echo "$version" > static/HTMX_EXT_SSE_VERSION
sha256sum static/htmx-ext-sse.min.js
