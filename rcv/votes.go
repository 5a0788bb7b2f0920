package rcv

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// maxPlaces bounds decimalPlacesForVoteArithmetic so that scaled int64
// arithmetic cannot overflow for elections of up to tens of millions of ballots.
const maxPlaces = 9

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000}

// Votes is a fixed-point vote count: Units / 10^Places. Arithmetic inside the
// tabulator is done on the scaled integers and truncates, as RCTab's
// BigDecimal arithmetic with RoundingMode.DOWN does.
type Votes struct {
	Units  int64
	Places int
}

// String renders the value as a decimal without trailing zeros ("14866",
// "7.2501"), which is how RCTab's reports read.
func (v Votes) String() string { return formatUnits(v.Units, v.Places) }

// MarshalText makes Votes encode as a JSON string.
func (v Votes) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses a decimal string; Places becomes the number of digits
// after the point.
func (v *Votes) UnmarshalText(b []byte) error {
	u, p, err := parseDecimal(string(b), -1)
	if err != nil {
		return err
	}
	v.Units, v.Places = u, p
	return nil
}

func formatUnits(u int64, places int) string {
	neg := u < 0
	if neg {
		u = -u
	}
	s := strconv.FormatInt(u, 10)
	if places > 0 {
		if len(s) <= places {
			s = strings.Repeat("0", places-len(s)+1) + s
		}
		whole, frac := s[:len(s)-places], strings.TrimRight(s[len(s)-places:], "0")
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// parseDecimal parses s into units at the given number of places (truncating
// extra digits). With places < 0 it keeps every digit and returns how many.
func parseDecimal(s string, places int) (int64, int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, max(places, 0), errors.New("empty number")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, 0, fmt.Errorf("invalid number %q", s)
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, 0, fmt.Errorf("invalid number %q", s)
		}
	}
	if places < 0 {
		places = len(frac)
		if places > maxPlaces {
			frac = frac[:maxPlaces]
			places = maxPlaces
		}
	}
	if len(frac) > places {
		frac = frac[:places]
	}
	frac += strings.Repeat("0", places-len(frac))
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, places, nil
	}
	u, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("number %q out of range", s)
	}
	if neg {
		u = -u
	}
	return u, places, nil
}

// mulTrunc returns a*b/scale truncated toward zero, for non-negative a, b.
// It is RCTab's config.multiply: the product rounded DOWN to the contest's
// decimal places.
func mulTrunc(a, b, scale int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(scale))
	return int64(q)
}

// divTrunc returns a*scale/b truncated, for non-negative a and positive b:
// RCTab's config.divide with RoundingMode.DOWN.
func divTrunc(a, b, scale int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(scale))
	if hi >= uint64(b) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, uint64(b))
	return int64(q)
}
