package rcv

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A conformance pack is a folder of RCTab regression cases: "rctab" (the
// neutral form: rules.json, ballots.csv, expected.json) or "rctab-native"
// (RCTab's own configs and CVR files).
const (
	packNeutral = "rctab"
	packNative  = "rctab-native"
)

// conformanceCase is one case folder of a pack.
type conformanceCase struct {
	name string // folder name
	dir  string
}

// conformanceSource is one place cases come from.
type conformanceSource struct {
	label string // subtest name: "testdata" or "external"
	dir   string
	cases []conformanceCase
}

// conformanceSources returns the cases of a pack: the repository's copy in
// testdata (always; a bare clone has only these), then the cases of the same
// pack in $RUNOFF_CONFORMANCE_DIR or, when that is unset, in
// ../shared/conformance beside the repository, when it is there — more
// cases may appear there than the repository holds.
//
// RUNOFF_CONFORMANCE_DIR may name a conformance root (holding rctab/ and
// rctab-native/) or one pack folder; when set, it must exist and hold cases
// of at least one pack, so a typo fails instead of silently running less.
//
// An external case byte-identical to the repository's case of the same name
// is left out (running the same files twice proves nothing); a changed or
// new one runs under "external/NAME", beside "testdata/NAME".
func conformanceSources(t *testing.T, pack string) []conformanceSource {
	t.Helper()
	local := conformanceSource{label: "testdata", dir: filepath.Join("testdata", pack)}
	local.cases = packCases(local.dir, pack)
	if len(local.cases) == 0 {
		t.Fatalf("no conformance cases in %s: the repository's copy is missing", local.dir)
	}
	sources := []conformanceSource{local}

	extDir, explicit := os.LookupEnv("RUNOFF_CONFORMANCE_DIR")
	if !explicit || extDir == "" {
		explicit = false
		extDir = filepath.Join("..", "..", "shared", "conformance")
	}
	if st, err := os.Stat(extDir); err != nil || !st.IsDir() {
		if explicit {
			t.Fatalf("RUNOFF_CONFORMANCE_DIR=%s: not a folder", extDir)
		}
		t.Logf("no %s beside the repository: only the repository's %d cases", extDir, len(local.cases))
		return sources
	}
	if explicit && len(packCases(filepath.Join(extDir, packNeutral), packNeutral))+
		len(packCases(filepath.Join(extDir, packNative), packNative))+
		len(packCases(extDir, packNeutral))+len(packCases(extDir, packNative)) == 0 {
		t.Fatalf("RUNOFF_CONFORMANCE_DIR=%s holds no conformance cases (want a folder with rctab/ or rctab-native/, or one of those)", extDir)
	}
	ext := conformanceSource{label: "external", dir: filepath.Join(extDir, pack)}
	if len(packCases(ext.dir, pack)) == 0 {
		ext.dir = extDir // the variable names the pack folder itself
	}
	same := 0
	for _, c := range packCases(ext.dir, pack) {
		if i := slices.IndexFunc(local.cases, func(l conformanceCase) bool { return l.name == c.name }); i >= 0 &&
			caseFingerprint(t, pack, c.dir) == caseFingerprint(t, pack, local.cases[i].dir) {
			same++
			continue
		}
		ext.cases = append(ext.cases, c)
	}
	t.Logf("%s: %d cases; %s: %d more (%d identical to the repository's left out)",
		local.dir, len(local.cases), ext.dir, len(ext.cases), same)
	if pack == packNative {
		if other := notReportCases(ext.dir); len(other) > 0 {
			t.Logf("%s: not run, no expected detailed report to compare with: %s", ext.dir, strings.Join(other, ", "))
		}
	}
	if len(ext.cases) > 0 {
		sources = append(sources, ext)
	}
	return sources
}

// packCases lists the case folders of a pack folder: those holding
// rules.json (neutral) or NAME/NAME_config.json and RCTab's expected
// report (native; RCTab's suite also has configs that test conversions or
// refusals, with no report to compare — see notReportCases).
func packCases(dir, pack string) []conformanceCase {
	cases, _ := packFolders(dir, pack)
	return cases
}

// notReportCases lists the native folders with a config but no expected
// detailed report.
func notReportCases(dir string) []string {
	_, other := packFolders(dir, packNative)
	return other
}

func packFolders(dir, pack string) (cases []conformanceCase, noReport []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		caseDir := filepath.Join(dir, ent.Name())
		marker := filepath.Join(caseDir, "rules.json")
		if pack == packNative {
			marker = filepath.Join(caseDir, ent.Name()+"_config.json")
		}
		if _, err := os.Stat(marker); err != nil {
			continue
		}
		if pack == packNative && !hasExpectedReport(caseDir, ent.Name()) {
			noReport = append(noReport, ent.Name())
			continue
		}
		cases = append(cases, conformanceCase{name: ent.Name(), dir: caseDir})
	}
	return cases, noReport
}

func hasExpectedReport(dir, name string) bool {
	for _, f := range []string{name + "_expected_detailed_report.json", name + "_1_expected_detailed_report.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// caseFingerprint hashes every file a case reads: its folder, and for a
// native case the CVR files and folders its config names outside it.
func caseFingerprint(t *testing.T, pack, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	roots := []string{dir}
	if pack == packNative {
		roots = append(roots, nativeCaseInputs(t, dir)...)
	}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			h.Write([]byte(filepath.ToSlash(rel) + "\x00"))
			h.Write(b)
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "no such file") {
			t.Fatalf("fingerprint %s: %v", root, err)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// nativeCaseInputs returns the CVR paths a native case's config names,
// resolved against the config's folder.
func nativeCaseInputs(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.Base(dir)+"_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CvrFileSources []struct {
			FilePath string `json:"filePath"`
		} `json:"cvrFileSources"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var out []string
	for _, s := range cfg.CvrFileSources {
		p := filepath.FromSlash(s.FilePath)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out = append(out, p)
	}
	return out
}
