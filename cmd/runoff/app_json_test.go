package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// appJSON is the part of Heroku's app.json that Runoff uses.
type appJSON struct {
	Name       string `json:"name"`
	Buildpacks []struct {
		URL string `json:"url"`
	} `json:"buildpacks"`
	Addons []struct {
		Plan string `json:"plan"`
	} `json:"addons"`
	Formation map[string]struct {
		Quantity int `json:"quantity"`
	} `json:"formation"`
	Env map[string]struct {
		Description string `json:"description"`
		Generator   string `json:"generator"`
		Value       string `json:"value"`
		Required    *bool  `json:"required"`
	} `json:"env"`
}

// envInProduction says, for every variable loadConfig reads, what a Heroku
// deployment does about it. A variable the config starts reading must be
// added here, which makes its author decide whether app.json provides it.
var envInProduction = map[string]struct {
	required   bool   // production is wrong without it
	providedBy string // an add-on plan, "heroku" (the platform), or "" (app.json env, or optional)
}{
	"PORT":                {required: true, providedBy: "heroku"},
	"DYNO":                {providedBy: "heroku"},
	"DATABASE_URL":        {required: true, providedBy: "heroku-postgresql"},
	"CLOUDAMQP_URL":       {required: true, providedBy: "cloudamqp"},
	"AMQP_URL":            {}, // the non-Heroku name of the same thing
	"WEB_AMQP_URL":        {}, // a broker user of the web's own; CLOUDAMQP_URL's otherwise
	"WORKER_AMQP_URL":     {}, // a broker user of the worker's own; CLOUDAMQP_URL's otherwise
	"SESSION_KEY":         {required: true},
	"KEYS_SECRET":         {required: true},
	"COOKIE_SECURE":       {},
	"TRUST_PROXY":         {required: true}, // Heroku's router appends the client's address
	"SMTP_URL":            {},               // optional: without it, organizers get password links from the operator
	"LOG_FORMAT":          {},               // JSON whenever DYNO is set
	"LOG_LEVEL":           {},
	"METRICS_TOKEN":       {},
	"METRICS_PORT":        {},
	"DEBUG_PPROF":         {}, // off unless an operator profiles
	"GOGC":                {}, // the Go runtime's; set, the web keeps it rather than its own
	"GOMEMLIMIT":          {}, // likewise
	"RUNOFF_QUEUE_PREFIX": {},
	"BALLOT_BUNDLES":      {}, // the default suits a small machine and a big one
}

// buildEnv are app.json variables that the buildpack reads at build time,
// not the configuration.
var buildEnv = map[string]string{
	"GO_LINKER_SYMBOL": "links the commit into runoff version (TestVersionLinkedAsOnHeroku)",
}

func readAppJSON(t *testing.T) appJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	var app appJSON
	if err := json.Unmarshal(b, &app); err != nil {
		t.Fatalf("app.json: %v", err)
	}
	return app
}

// readProcfile returns the Procfile's process types and their commands.
func readProcfile(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "Procfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	procs := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("Procfile: line %q is not NAME: COMMAND", line)
		}
		procs[strings.TrimSpace(name)] = strings.TrimSpace(cmd)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return procs
}

// configReads returns the names loadConfig asks the environment for.
func configReads(t *testing.T) []string {
	t.Helper()
	var names []string
	getenv := func(name string) string {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return ""
	}
	if _, err := loadConfig(getenv); err != nil {
		t.Fatalf("loadConfig with an empty environment: %v", err)
	}
	slices.Sort(names)
	return names
}

func TestAppJSONMatchesProcfile(t *testing.T) {
	app := readAppJSON(t)
	procs := readProcfile(t)

	if got := procs["release"]; got != "runoff migrate" {
		t.Errorf("Procfile release phase = %q, want %q: app.json relies on it to migrate the database on every deploy, the first included", got, "runoff migrate")
	}
	for name, cmd := range procs {
		sub, ok := strings.CutPrefix(cmd, "runoff ")
		if !ok || !strings.Contains(usage, "\n  "+sub+" ") {
			t.Errorf("Procfile %s: %q is not a runoff command listed in the usage", name, cmd)
		}
		if name == "release" {
			continue // runs once per release, not a dyno formation
		}
		f, ok := app.Formation[name]
		if !ok {
			t.Errorf("app.json formation has no %q, which the Procfile runs", name)
		} else if f.Quantity < 1 {
			t.Errorf("app.json formation %s: quantity %d, want at least 1", name, f.Quantity)
		}
	}
	for name := range app.Formation {
		if _, ok := procs[name]; !ok || name == "release" {
			t.Errorf("app.json formation %q is not a process type in the Procfile", name)
		}
	}
	var buildpacks []string
	for _, b := range app.Buildpacks {
		buildpacks = append(buildpacks, b.URL)
	}
	if !slices.Equal(buildpacks, []string{"heroku/go"}) {
		t.Errorf("app.json buildpacks %q, want [heroku/go]", buildpacks)
	}
}

func TestAppJSONMatchesConfig(t *testing.T) {
	app := readAppJSON(t)
	reads := configReads(t)

	// The table above stays complete and true.
	for _, name := range reads {
		if _, ok := envInProduction[name]; !ok {
			t.Errorf("loadConfig reads %s, which envInProduction does not classify: say whether production needs it and who provides it", name)
		}
	}
	for name := range envInProduction {
		if !slices.Contains(reads, name) {
			t.Errorf("envInProduction lists %s, which loadConfig never reads", name)
		}
	}

	addons := map[string]bool{}
	for _, a := range app.Addons {
		plan, _, _ := strings.Cut(a.Plan, ":")
		addons[plan] = true
	}
	for name, e := range envInProduction {
		if e.providedBy != "" && e.providedBy != "heroku" && !addons[e.providedBy] {
			t.Errorf("%s comes from the %s add-on, which app.json does not add", name, e.providedBy)
		}
		if !e.required || e.providedBy != "" {
			continue
		}
		v, ok := app.Env[name]
		if !ok {
			t.Errorf("%s is required in production but neither an add-on nor app.json's env provides it", name)
			continue
		}
		if v.Required != nil && !*v.Required && v.Generator == "" && v.Value == "" {
			t.Errorf("app.json env %s is required in production but optional there, with no value or generator", name)
		}
	}
	for name, v := range app.Env {
		if _, ok := buildEnv[name]; !ok && !slices.Contains(reads, name) {
			t.Errorf("app.json env declares %s, which the configuration never reads", name)
		}
		if v.Description == "" {
			t.Errorf("app.json env %s has no description for the person deploying", name)
		}
	}
}

// Heroku's "secret" generator makes 64 hexadecimal characters; the
// configuration must accept that as SESSION_KEY.
func TestAppJSONSessionKeySecretIsAccepted(t *testing.T) {
	app := readAppJSON(t)
	if g := app.Env["SESSION_KEY"].Generator; g != "secret" {
		t.Fatalf("app.json env SESSION_KEY generator = %q, want secret", g)
	}
	generated := hex.EncodeToString(make([]byte, 32)) // the generator's shape
	cfg, err := loadConfig(func(name string) string {
		if name == "SESSION_KEY" {
			return generated
		}
		return ""
	})
	if err != nil {
		t.Fatalf("loadConfig with a generated SESSION_KEY: %v", err)
	}
	if cfg.SessionKeyGenerated {
		t.Error("a SESSION_KEY from app.json was ignored and a per-process key made")
	}
}
