package runoff

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// CleanText is text as a person typed it, made canonical: Unicode NFC
// (so "é" typed two ways is one "é"), Windows line ends as "\n", no
// space at either end. The web cleans what it publishes; validation then
// refuses what is left that a reader cannot see.
func CleanText(s string) string {
	return strings.TrimSpace(norm.NFC.String(strings.ReplaceAll(s, "\r\n", "\n")))
}

// hidden reports text that holds something a reader cannot see or that
// changes what they see: invalid UTF-8, control characters (but for line
// breaks and tabs where lines are allowed), direction overrides and
// isolates, zero-width spaces, word joiners and byte-order marks. Zero-
// width joiners and non-joiners stay allowed: scripts and emoji need them.
func hidden(s string, lines bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		switch {
		case lines && (r == '\n' || r == '\t'):
		case unicode.IsControl(r):
			return true
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // bidi
			return true
		case r == 0x200B, r == 0x2060, r == 0xFEFF, r == 0x180E: // zero-width space, word joiner, BOM, Mongolian vowel separator
			return true
		}
	}
	return false
}

// visible reports text with at least one character a reader can see.
func visible(s string) bool {
	for _, r := range s {
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Mn, r) {
			return true
		}
	}
	return false
}

// nameKey is how two names compare: names a reader could take for each
// other are the same name — whatever the case, the compatibility form
// (full-width "Ａ" is "A") or the script of look-alike letters (Cyrillic
// "а" is Latin "a"), by the skeletons of Unicode's confusables (UTS #39).
func nameKey(s string) string {
	return confusables.Skeleton(cases.Fold().String(norm.NFKC.String(strings.TrimSpace(s))))
}
