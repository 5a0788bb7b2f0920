package runoff

import (
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	const linked = "fedcba9876543210fedcba9876543210fedcba98"
	tests := []struct {
		name   string
		info   *debug.BuildInfo
		linked string
		want   BuildVersion
	}{
		{"no build info", nil, "", BuildVersion{}},
		{"no VCS information", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", BuildVersion{Version: "(devel)"}},
		{"revision given to the linker only", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, linked,
			BuildVersion{Version: "(devel)", Revision: linked}},
		{"tagged, clean", &debug.BuildInfo{
			Main: debug.Module{Path: "github.com/runoff-vote/runoff", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{
				{Key: "-buildmode", Value: "exe"},
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.time", Value: "2026-11-25T20:00:00Z"},
				{Key: "vcs.modified", Value: "false"},
			},
		}, linked, BuildVersion{Version: "v1.2.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-11-25T20:00:00Z"}},
		{"modified tree", &debug.BuildInfo{
			Main: debug.Module{Version: "v0.0.0-20261125200000-0123456789ab+dirty"},
			Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.modified", Value: "true"},
			},
		}, "", BuildVersion{Version: "v0.0.0-20261125200000-0123456789ab+dirty", Revision: "0123456789abcdef0123456789abcdef01234567", Modified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionFrom(tt.info, tt.linked); got != tt.want {
				t.Errorf("versionFrom = %+v, want %+v", got, tt.want)
			}
		})
	}
}
