package runoff

import "runtime/debug"

// BuildVersion says which build of Runoff is running, as the Go toolchain
// recorded it in the binary.
type BuildVersion struct {
	// Version is the main module's version: the tag, or a pseudo-version
	// naming the commit (with "+dirty" for a modified tree), when the build
	// recorded VCS information; otherwise "(devel)", or "" in a test binary.
	Version string
	// Revision is the VCS commit the binary was built from: as the go
	// command recorded it, else as given to the linker (see
	// linkedRevision), else "".
	Revision string
	// Time is the commit's time (RFC 3339), or "".
	Time string
	// Modified is true when the work tree had uncommitted changes.
	Modified bool
}

// linkedRevision is the commit as a build without .git passes it to the
// linker: Heroku's Go buildpack, with the config var
// GO_LINKER_SYMBOL=github.com/runoff-vote/runoff.linkedRevision (app.json
// sets it), links in -X that=$SOURCE_VERSION. Set only at link time.
var linkedRevision string

// Version reads the running binary's build information.
func Version() BuildVersion {
	info, _ := debug.ReadBuildInfo()
	return versionFrom(info, linkedRevision)
}

// versionFrom reads info; linked is the revision given to the linker, used
// when the go command recorded none.
func versionFrom(info *debug.BuildInfo, linked string) BuildVersion {
	v := BuildVersion{Revision: linked}
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
