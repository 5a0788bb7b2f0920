package runoff_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The folders' import rules (README, "Architecture"): the transport apart
// from the domain, Postgres's driver inside store, no import running
// upward. A change that breaks them fails here, not in review.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/runoff-vote/runoff"
	// Which of the project's packages, and which guarded libraries, each
	// folder may import.
	allowed := map[string][]string{
		"":                      {},
		"rcv":                   {},
		"views":                 {""},
		"static":                {},
		"store":                 {"", "rcv", "lib/pq"},
		"store/storetest":       {"store"},
		"rabbitmq":              {"", "amqp091-go"},
		"rabbitmq/rabbitmqtest": {"rabbitmq", "amqp091-go"},
		"worker":                {"", "store", "rcv"},
		"worker/smtptest":       {},
		"handlers":              {"", "views", "static"},
		"cmd/runoff":            {"", "rcv", "store", "rabbitmq", "worker", "handlers", "views", "static"},
	}
	guarded := map[string]string{"github.com/lib/pq": "lib/pq", "github.com/rabbitmq/amqp091-go": "amqp091-go"}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %q is not in the import rules: add it here and to the README's folder table", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			var name string
			switch {
			case imp == mod:
				name = ""
			case strings.HasPrefix(imp, mod+"/"):
				name = strings.TrimPrefix(imp, mod+"/")
			case guarded[imp] != "":
				name = guarded[imp]
			default:
				continue
			}
			if !slices.Contains(ok, name) {
				t.Errorf("%s imports %s, which its folder may not", fields[0], imp)
			}
		}
	}
}
