package views

import (
	"sort"
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func sortedKeys(m FieldErrors) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func describedBy(errs FieldErrors, name string) string {
	if _, ok := errs[name]; ok {
		return name + "-error"
	}
	return ""
}

func invalid(errs FieldErrors, name string) string {
	if _, ok := errs[name]; ok {
		return "true"
	}
	return "false"
}

// hintAnd names a field's hint, and its error when it has one, for
// aria-describedby.
func hintAnd(errs FieldErrors, name string) string {
	if _, ok := errs[name]; ok {
		return name + "-hint " + name + "-error"
	}
	return name + "-hint"
}
