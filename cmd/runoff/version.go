package main

import (
	"fmt"
	"io"

	"github.com/runoff-vote/runoff"
)

// runVersion prints what `runoff version` shows: the module version, then
// the VCS revision, its time and whether the tree was modified, when the
// build recorded them.
func runVersion(v runoff.BuildVersion, stdout io.Writer) error {
	version := v.Version
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(stdout, "runoff %s\n", version)
	if v.Revision == "" {
		fmt.Fprintln(stdout, "revision unknown (built without VCS information)")
		return nil
	}
	modified := ""
	if v.Modified {
		modified = " (modified)"
	}
	fmt.Fprintf(stdout, "revision %s%s\n", v.Revision, modified)
	if v.Time != "" {
		fmt.Fprintf(stdout, "committed %s\n", v.Time)
	}
	return nil
}
