package runoff

import "runtime/debug"

// BuildVersion says which build of Runoff is running, as the Go toolchain
// recorded it in the binary.
type BuildVersion struct {
	// Version is the main module's version: the tag, or a pseudo-version
	// naming the commit (with "+dirty" for a modified tree), when the build
	// recorded VCS information; otherwise "(devel)", or "" in a test binary.
	Version string
	// Revision is the VCS commit the binary was built from, or "" when the
	// build recorded none (-buildvcs=false, or no .git, as on Heroku).
	Revision string
	// Time is the commit's time (RFC 3339), or "".
	Time string
	// Modified is true when the work tree had uncommitted changes.
	Modified bool
}

// Version reads the running binary's build information.
func Version() BuildVersion {
	info, _ := debug.ReadBuildInfo()
	return versionFrom(info)
}

func versionFrom(info *debug.BuildInfo) BuildVersion {
	var v BuildVersion
	if info == nil {
		return v
	}
	v.Version = info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}
