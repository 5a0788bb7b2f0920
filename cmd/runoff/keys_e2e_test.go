package main

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff/rabbitmq/rabbitmqtest"
	"github.com/runoff-vote/runoff/store/storetest"
)

// Voter keys end to end, through the real web, broker, worker and
// Postgres: keys issued and downloaded, eight ballots racing with one key
// over HTTP of which exactly one counts, and no plain key anywhere in the
// database.
func TestVoterKeysEndToEnd(t *testing.T) {
	a := startApp(t)
	org := browser()
	if code, loc := a.post(org, "/signup", url.Values{"email": {"keys@example.org"}, "password": {"correct horse battery"}}); code != 303 || loc != "/admin" {
		t.Fatalf("signup: %d %s", code, loc)
	}
	code, loc := a.post(org, "/admin/elections", url.Values{"title": {"Club"}, "candidates": {"Ada\nGrace"}, "access": {"keys"}})
	if code != 303 {
		t.Fatalf("create: %d", code)
	}
	id := strings.TrimPrefix(loc, "/admin/elections/")
	rabbitmqtest.WaitFor(t, "election stored", func() bool {
		code, body := a.get(org, loc)
		return code == 200 && strings.Contains(body, `id="keys"`)
	})
	if code, _ := a.post(org, loc+"/keys", url.Values{"count": {"3"}}); code != 303 {
		t.Fatalf("issue keys: %d", code)
	}
	rabbitmqtest.WaitFor(t, "keys issued", func() bool {
		_, body := a.get(org, loc)
		return strings.Contains(body, "of 3 keys used")
	})
	code, body := a.get(org, loc+"/keys.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(rows) != 4 {
		t.Fatalf("keys.csv: %d %v %q", code, err, body)
	}
	var keys []string
	for _, row := range rows[1:] {
		keys = append(keys, row[2])
	}
	code, body = a.get(browser(), "/e/"+id+"?key="+url.QueryEscape(keys[0]))
	m := optionRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("keyed ballot: %d", code)
	}

	// Eight browsers cast a ballot with the same key at once.
	var wg sync.WaitGroup
	receipts := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			form := url.Values{"ballot_id": {uuid.Must(uuid.NewV7()).String()}, "rank1": {m[1]}, "key": {keys[0]}}
			resp, err := browser().PostForm(a.base+"/e/"+id+"/ballots", form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusSeeOther:
				receipts <- resp.Header.Get("Location")
			case http.StatusForbidden: // the worker had already counted one
			default:
				t.Errorf("ballot: status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(receipts)
	counted, rejected := 0, 0
	for r := range receipts {
		var body string
		rabbitmqtest.WaitFor(t, "ballot "+r+" carried out", func() bool {
			_, body = a.get(http.DefaultClient, r)
			return !strings.Contains(body, "badge queued")
		})
		switch {
		case strings.Contains(body, "badge counted"):
			counted++
		case strings.Contains(body, "badge rejected") && strings.Contains(body, "This voter key had already been used: only the first ballot cast with it counts."):
			rejected++
		default:
			t.Errorf("receipt %s says neither counted nor rejected for the key:\n%s", r, body)
		}
	}
	t.Logf("of 8 ballots racing with one key: %d counted, %d rejected by the worker, the rest refused by the web", counted, rejected)
	if counted != 1 {
		t.Fatalf("%d ballots counted with one key (%d rejected), want exactly 1", counted, rejected)
	}
	rabbitmqtest.WaitFor(t, "1 of 3 keys used", func() bool {
		_, body := a.get(org, "/admin")
		return strings.Contains(body, "1 of 3 keys used")
	})
	for table, dump := range storetest.Tables(t, a.getenv("DATABASE_URL")) {
		text := strings.ToUpper(dump)
		for _, k := range keys {
			if strings.Contains(text, k) || strings.Contains(text, strings.ReplaceAll(k, "-", "")) {
				t.Errorf("table %s holds the plain key %s", table, k)
			}
		}
	}
}
