#!/usr/bin/env bash
# Vendors htmx from the npm package htmx.org at the pinned version into
# static/. Run it to change the version; the result is committed, so
# building Runoff needs no npm.
set -euo pipefail
version=${1:-$(cat static/HTMX_VERSION)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$version" >/dev/null && tar xzf "htmx.org-$version.tgz")
cp "$tmp/package/dist/htmx.min.js" static/htmx.min.js
echo "$version" > static/HTMX_VERSION
sha256sum static/htmx.min.js
