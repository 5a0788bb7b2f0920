package rcv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// CVR providers RCTab reads (cvrFileSources[].provider).
const (
	ProviderESS         = "ess"
	ProviderDominion    = "dominion"
	ProviderCDF         = "cdf"
	ProviderHart        = "hart"
	ProviderClearBallot = "clearBallot"
	ProviderGenericCSV  = "genericCsv"
)

// ContestConfig is an RCTab contest config (CONTEST_config.json) as RCTab
// writes it: output settings, CVR sources, candidates with aliases, rules.
type ContestConfig struct {
	Path    string // the config file; CVR paths resolve against its folder
	Meta    ReadMeta
	Rules   Rules
	Sources []CVRSource
	// Notes lists settings that were read but do not change the count and
	// are not applied (tabulate by precinct or batch), or that RCTab itself
	// no longer applies; the CLI prints them on stderr.
	Notes []string

	// names maps every candidate name and alias to the candidate's index.
	names map[string]int32
}

// CVRSource is one entry of cvrFileSources. Indexes are 1-based as in the
// config; 0 means unset.
type CVRSource struct {
	Provider                      string
	FilePath                      string // as written in the config
	Path                          string // resolved against the config's folder
	ContestID                     string
	FirstVoteColumnIndex          int
	FirstVoteRowIndex             int
	IDColumnIndex                 int
	PrecinctColumnIndex           int
	BatchColumnIndex              int
	OvervoteDelimiter             string
	OvervoteLabel                 string
	SkippedRankLabel              string
	UndeclaredWriteInLabel        string
	TreatBlankAsUndeclaredWriteIn bool

	// fsys and name are what the readers read: the file, or the folder
	// ("."), called name in fsys. ReadCVRs sets them from Path; an import
	// reads an uploaded file or zip through them (export.go).
	fsys fs.FS
	name string
}

// files sets fsys and name from Path, unless already set.
func (src *CVRSource) files() {
	if src.fsys != nil {
		return
	}
	if src.Provider == ProviderDominion || src.Provider == ProviderHart {
		src.fsys, src.name = os.DirFS(src.Path), "."
		return
	}
	src.fsys, src.name = os.DirFS(filepath.Dir(src.Path)), filepath.Base(src.Path)
}

// baseName is the source's file name, for messages.
func (src *CVRSource) baseName() string {
	if src.name == "." || src.name == "" {
		return filepath.Base(src.Path)
	}
	return path.Base(src.name)
}

// ReadContestConfig reads an RCTab contest config and checks, before any
// ballot is read, that every CVR file or folder it names exists and every
// provider is one RCTab supports.
func ReadContestConfig(path string) (*ContestConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := parseContestConfig(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// configString reads a config value RCTab keeps as a string but people
// write either way ("4" or 4); null and absent are "".
type configString string

func (s *configString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = configString(strings.TrimSpace(str))
		return nil
	}
	*s = configString(b)
	return nil
}

// configBool reads true, false, "true" or "false".
type configBool bool

func (v *configBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "" || s == "null" {
		*v = false
		return nil
	}
	x, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %s", b)
	}
	*v = configBool(x)
	return nil
}

type rawContestConfig struct {
	OutputSettings struct {
		ContestName         string     `json:"contestName"`
		ContestDate         string     `json:"contestDate"`
		ContestJurisdiction string     `json:"contestJurisdiction"`
		ContestOffice       string     `json:"contestOffice"`
		TabulateByPrecinct  configBool `json:"tabulateByPrecinct"`
		TabulateByBatch     configBool `json:"tabulateByBatch"`
	} `json:"outputSettings"`
	CvrFileSources []struct {
		FilePath                      configString `json:"filePath"`
		ContestID                     configString `json:"contestId"`
		FirstVoteColumnIndex          configString `json:"firstVoteColumnIndex"`
		FirstVoteRowIndex             configString `json:"firstVoteRowIndex"`
		IDColumnIndex                 configString `json:"idColumnIndex"`
		BatchColumnIndex              configString `json:"batchColumnIndex"`
		PrecinctColumnIndex           configString `json:"precinctColumnIndex"`
		OvervoteDelimiter             *string      `json:"overvoteDelimiter"`
		Provider                      configString `json:"provider"`
		OvervoteLabel                 *string      `json:"overvoteLabel"`
		SkippedRankLabel              *string      `json:"skippedRankLabel"`
		UndeclaredWriteInLabel        *string      `json:"undeclaredWriteInLabel"`
		TreatBlankAsUndeclaredWriteIn configBool   `json:"treatBlankAsUndeclaredWriteIn"`
	} `json:"cvrFileSources"`
	Candidates []struct {
		Name     string     `json:"name"`
		Excluded configBool `json:"excluded"`
		Aliases  []string   `json:"aliases"`
		Code     string     `json:"code"` // RCTab 1.x configs: one alias
	} `json:"candidates"`
	Rules struct {
		MinimumVoteThreshold configString `json:"minimumVoteThreshold"`
	} `json:"rules"`
}

func parseContestConfig(data []byte, dir string) (*ContestConfig, error) {
	data, err := migrateConfig(data)
	if err != nil {
		return nil, err
	}
	var raw rawContestConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if len(raw.CvrFileSources) == 0 {
		return nil, errors.New("cvrFileSources: no CVR source listed")
	}
	if len(raw.Candidates) == 0 {
		return nil, errors.New("candidates: no candidate listed")
	}
	// Names and aliases, trimmed as RCTab trims them.
	cfg := &ContestConfig{names: make(map[string]int32)}
	var candidates, excluded []string
	for i, c := range raw.Candidates {
		name := javaTrim(c.Name)
		if name == "" {
			return nil, fmt.Errorf("candidates[%d]: empty name", i)
		}
		candidates = append(candidates, name)
		if c.Excluded {
			excluded = append(excluded, name)
		}
		all := append([]string{name}, c.Aliases...)
		if c.Code != "" {
			all = append(all, c.Code)
		}
		for _, a := range all {
			a = javaTrim(a)
			if a == "" {
				continue
			}
			if j, ok := cfg.names[a]; ok && j != int32(i) {
				return nil, fmt.Errorf("candidates[%d] %q: name or alias %q already belongs to %q", i, name, a, candidates[j])
			}
			cfg.names[a] = int32(i)
		}
	}

	// The rules (and candidate order, exclusions) as ParseRules reads them.
	rules, err := ParseRules(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	rules.Candidates, rules.ExcludedCandidates = candidates, excluded
	// RCTab 2.0 removed minimumVoteThreshold (BrightSpots/rcv #957, replaced
	// by cutoffElimination): a config that still carries it counts as if it
	// were 0.
	if m := string(raw.Rules.MinimumVoteThreshold); m != "" {
		if u, _, err := parseDecimal(m, -1); err != nil || u != 0 {
			cfg.Notes = append(cfg.Notes, fmt.Sprintf("rules.minimumVoteThreshold %q ignored: RCTab no longer applies it (use cutoffElimination)", m))
		}
	}
	rules.MinimumVoteThreshold = ""
	rules.UndeclaredWriteIn = UndeclaredWriteIn{}

	out := raw.OutputSettings
	cfg.Meta = ReadMeta{Contest: out.ContestName, Jurisdiction: out.ContestJurisdiction, Office: out.ContestOffice, Date: out.ContestDate}
	if out.TabulateByPrecinct {
		cfg.Notes = append(cfg.Notes, "outputSettings.tabulateByPrecinct ignored: Runoff reports the contest as a whole")
	}
	if out.TabulateByBatch {
		cfg.Notes = append(cfg.Notes, "outputSettings.tabulateByBatch ignored: Runoff reports the contest as a whole")
	}

	var errs []string
	for i, s := range raw.CvrFileSources {
		src := CVRSource{
			Provider:                      string(s.Provider),
			FilePath:                      string(s.FilePath),
			ContestID:                     string(s.ContestID),
			OvervoteDelimiter:             deref(s.OvervoteDelimiter),
			OvervoteLabel:                 javaTrim(deref(s.OvervoteLabel)),
			SkippedRankLabel:              javaTrim(deref(s.SkippedRankLabel)),
			UndeclaredWriteInLabel:        javaTrim(deref(s.UndeclaredWriteInLabel)),
			TreatBlankAsUndeclaredWriteIn: bool(s.TreatBlankAsUndeclaredWriteIn),
		}
		at := fmt.Sprintf("cvrFileSources[%d]", i)
		for _, f := range []struct {
			name string
			v    configString
			dst  *int
		}{
			{"firstVoteColumnIndex", s.FirstVoteColumnIndex, &src.FirstVoteColumnIndex},
			{"firstVoteRowIndex", s.FirstVoteRowIndex, &src.FirstVoteRowIndex},
			{"idColumnIndex", s.IDColumnIndex, &src.IDColumnIndex},
			{"precinctColumnIndex", s.PrecinctColumnIndex, &src.PrecinctColumnIndex},
			{"batchColumnIndex", s.BatchColumnIndex, &src.BatchColumnIndex},
		} {
			if f.v == "" {
				continue
			}
			n, err := strconv.Atoi(string(f.v))
			if err != nil || n < 1 {
				errs = append(errs, fmt.Sprintf("%s.%s: want a positive integer, got %q", at, f.name, f.v))
				continue
			}
			*f.dst = n
		}
		switch src.Provider {
		case ProviderESS, ProviderGenericCSV:
			if src.FirstVoteColumnIndex == 0 || src.FirstVoteRowIndex == 0 {
				errs = append(errs, fmt.Sprintf("%s: provider %q needs firstVoteColumnIndex and firstVoteRowIndex", at, src.Provider))
			}
		case ProviderDominion, ProviderCDF, ProviderHart, ProviderClearBallot:
			if src.ContestID == "" {
				errs = append(errs, fmt.Sprintf("%s: provider %q needs contestId", at, src.Provider))
			}
		case "":
			errs = append(errs, fmt.Sprintf("%s: provider missing (want one of ess, dominion, cdf, hart, clearBallot, genericCsv)", at))
		default:
			errs = append(errs, fmt.Sprintf("%s: unknown provider %q (want one of ess, dominion, cdf, hart, clearBallot, genericCsv)", at, src.Provider))
		}
		if src.FilePath == "" {
			errs = append(errs, fmt.Sprintf("%s: filePath missing", at))
		} else {
			src.Path = filepath.FromSlash(src.FilePath)
			if !filepath.IsAbs(src.Path) {
				src.Path = filepath.Join(dir, src.Path)
			}
			st, err := os.Stat(src.Path)
			wantDir := src.Provider == ProviderDominion || src.Provider == ProviderHart
			switch {
			case err != nil:
				errs = append(errs, fmt.Sprintf("%s: %s: no such file or folder", at, src.FilePath))
			case wantDir && !st.IsDir():
				errs = append(errs, fmt.Sprintf("%s: %s: provider %q wants a folder", at, src.FilePath, src.Provider))
			case !wantDir && st.IsDir():
				errs = append(errs, fmt.Sprintf("%s: %s: provider %q wants a file, not a folder", at, src.FilePath, src.Provider))
			}
			if src.Provider == ProviderCDF {
				if ext := strings.ToLower(filepath.Ext(src.Path)); ext != ".json" && ext != ".xml" {
					errs = append(errs, fmt.Sprintf("%s: %s: a CDF file must end in .json or .xml", at, src.FilePath))
				}
			}
		}
		// RCTab's ContestConfig refuses these two, so no RCTab result exists.
		if src.OvervoteLabel != "" && rules.OvervoteRule == OvervoteExhaustIfMultipleContinuing {
			errs = append(errs, fmt.Sprintf("%s: overvoteLabel %q needs overvoteRule exhaustImmediately or alwaysSkipToNextRank (the marks of a labelled overvote are unknown)", at, src.OvervoteLabel))
		}
		if src.Provider == ProviderESS && src.OvervoteLabel != "" && src.OvervoteDelimiter != "" {
			errs = append(errs, fmt.Sprintf("%s: give overvoteDelimiter or overvoteLabel, not both", at))
		}
		// RCTab counts undeclared write-ins when any source labels them.
		if src.UndeclaredWriteInLabel != "" || src.TreatBlankAsUndeclaredWriteIn {
			rules.UndeclaredWriteIn = UndeclaredWriteIn{Enabled: true}
		}
		cfg.Sources = append(cfg.Sources, src)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	cfg.Rules = rules
	return cfg, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// javaTrim removes leading and trailing characters up to U+0020, as Java's
// String.trim (which RCTab's readers use) and unlike strings.TrimSpace.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}
