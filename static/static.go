// Package static holds the CSS, the vendored htmx (see HTMX_VERSION and
// scripts/vendor-htmx.sh) and the small script that enhances pages.
package static

import "embed"

// FS is served under /static/.
//
//go:embed *.css *.js
var FS embed.FS
