package handlers_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
)

// The fake store's voter keys live beside it, by store, so that
// handlers_test.go's fakeStore needs no new fields.
type fakeKeyTable struct {
	mu     sync.Mutex
	issued map[uuid.UUID][]runoff.IssuedKey
	uses   map[string]runoff.KeyUse // by hash
}

var fakeKeyTables sync.Map // *fakeStore → *fakeKeyTable

func (f *fakeStore) keyTable() *fakeKeyTable {
	t, _ := fakeKeyTables.LoadOrStore(f, &fakeKeyTable{issued: map[uuid.UUID][]runoff.IssuedKey{}, uses: map[string]runoff.KeyUse{}})
	return t.(*fakeKeyTable)
}

func (f *fakeStore) IssuedKeys(_ context.Context, id uuid.UUID) ([]runoff.IssuedKey, error) {
	t := f.keyTable()
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.issued[id]), nil
}

func (f *fakeStore) KeyUse(_ context.Context, id uuid.UUID, hash string) (runoff.KeyUse, error) {
	t := f.keyTable()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.issued[id] {
		if k.Hash == hash {
			u := t.uses[hash]
			u.Issued = true
			return u, nil
		}
	}
	return runoff.KeyUse{}, nil
}

// applyKeys does what the worker does with an election.keys message.
func (e *env) applyKeys(t *testing.T, m message) runoff.ElectionKeys {
	t.Helper()
	var k runoff.ElectionKeys
	if m.key != runoff.KeyElectionKeys || json.Unmarshal(m.body, &k) != nil {
		t.Fatalf("not an election.keys message: %s %s", m.key, m.body)
	}
	tb := e.store.keyTable()
	tb.mu.Lock()
	for i, h := range k.Hashes {
		ik := runoff.IssuedKey{Hash: h, Batch: k.ChangeID, Index: i, IssuedAt: k.RequestedAt}
		if len(k.Labels) > 0 {
			ik.Label = k.Labels[i]
		}
		tb.issued[k.ElectionID] = append(tb.issued[k.ElectionID], ik)
	}
	tb.mu.Unlock()
	e.store.mu.Lock()
	e.store.elections[k.ElectionID].KeysIssued += int64(len(k.Hashes))
	e.store.mu.Unlock()
	return k
}

func (e *env) useKey(hash string, u runoff.KeyUse) {
	tb := e.store.keyTable()
	tb.mu.Lock()
	tb.uses[hash] = u
	tb.mu.Unlock()
}

var keysSecret = []byte("handlers test keys secret, 32 bytes")

// newKeysEnv is newEnv with a KEYS_SECRET, as runoff web has.
func newKeysEnv(t *testing.T, secret []byte) *env {
	t.Helper()
	return newEnvWith(t, func(s *handlers.Server) { s.KeysSecret = secret })
}

// keysElection adds an open election that takes keys, owned by owner.
func (e *env) keysElection(owner uuid.UUID, changes string) *runoff.Election {
	el := e.addElection(owner, "Apple", "Banana", "Cherry")
	e.store.mu.Lock()
	el.Settings = runoff.DefaultSettings()
	el.Access, el.Changes = runoff.AccessKeys, changes
	e.store.mu.Unlock()
	return el
}

// Every voter-keys route of an election answers 404 to anyone but its
// owner, and publishes nothing.
func TestKeysRoutesOwnerOnly(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	c := e.client(t)
	signUp(t, e, c, "mallory@example.org")
	el := e.keysElection(uuid.New(), "")
	base := e.srv.URL + "/admin/elections/" + el.ID.String()
	if resp, _ := post(t, c, base+"/keys", url.Values{"count": {"3"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /keys by a stranger: %d, want 404", resp.StatusCode)
	}
	for _, path := range []string{"/keys.csv", "/keys/print"} {
		if resp, _ := get(t, c, base+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s by a stranger: %d, want 404", path, resp.StatusCode)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("a stranger published %d messages", n)
	}
	// Signed out, they are sent to sign in.
	if resp, _ := get(t, e.client(t), base+"/keys.csv"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The organizer issues keys: only hashes are published, the keys can be
// downloaded as formula-safe CSV and printed with QR codes, and a server
// with another secret refuses to print them rather than print wrong ones.
func TestIssueAndPrintKeys(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.keysElection(owner, "")
	base := e.srv.URL + "/admin/elections/" + el.ID.String()

	_, body := get(t, c, base)
	for _, want := range []string{`id="keys"`, "0</strong> of 0 keys used", `action="/admin/elections/` + el.ID.String() + `/keys"`, `name="batch_id"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("admin page lacks %q", want)
		}
	}
	batch := uuid.Must(uuid.NewV7()).String()
	resp, _ := post(t, c, base+"/keys", url.Values{"count": {"3"}, "batch_id": {batch}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "?change="+batch) {
		t.Fatalf("issue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	voters := "Ada Lovelace\n=HYPERLINK(\"http://evil\")\n+1+2\n-3\n@SUM(A1)\n\tTabbed"
	if resp, _ := post(t, c, base+"/keys", url.Values{"voters": {voters}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("issue for voters: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	if len(msgs) != 2 {
		t.Fatalf("published %d messages, want 2", len(msgs))
	}
	k1, k2 := e.applyKeys(t, msgs[0]), e.applyKeys(t, msgs[1])
	if k1.ChangeID.String() != batch || len(k1.Hashes) != 3 || len(k1.Labels) != 0 || len(k2.Hashes) != 6 || k2.Labels[0] != "Ada Lovelace" || k2.OrganizerID != owner {
		t.Fatalf("batches: %+v %+v", k1, k2)
	}
	var plain []string
	for _, k := range []runoff.ElectionKeys{k1, k2} {
		for i := range k.Hashes {
			plain = append(plain, runoff.DeriveKey(keysSecret, el.ID, k.ChangeID, i))
		}
	}
	assertNoPlainKeys(t, msgs, plain)

	resp, body = get(t, c, base+"/keys.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 || !slices.Equal(rows[0], []string{"number", "voter", "key", "ballot link"}) {
		t.Fatalf("csv rows: %q", rows)
	}
	wantVoters := []string{"", "", "", "Ada Lovelace", `'=HYPERLINK("http://evil")`, "'+1+2", "'-3", "'@SUM(A1)", "Tabbed"}
	for i, row := range rows[1:] {
		if row[1] != wantVoters[i] {
			t.Errorf("row %d voter %q, want %q", i+1, row[1], wantVoters[i])
		}
		if row[2] != plain[i] || runoff.HashKey(el.ID, row[2]) == "" {
			t.Errorf("row %d key %q, want %q", i+1, row[2], plain[i])
		}
		if row[3] != e.srv.URL+"/e/"+el.ID.String()+"?key="+plain[i] {
			t.Errorf("row %d link %q", i+1, row[3])
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d cell %q starts like a formula", i+1, cell)
			}
		}
	}

	resp, body = get(t, c, base+"/keys/print")
	if resp.StatusCode != 200 || strings.Count(body, `src="data:image/svg+xml;base64,`) != 9 || !strings.Contains(body, "For Ada Lovelace") {
		t.Fatalf("print sheet: %d, %d QR codes", resp.StatusCode, strings.Count(body, `src="data:image/svg+xml;base64,`))
	}
	for _, k := range plain {
		if !strings.Contains(body, k) {
			t.Errorf("print sheet lacks key %s", k)
		}
	}

	// Another server's secret cannot derive these keys: it says so.
	other := newKeysEnv(t, []byte("another secret of at least 32 chars"))
	oc := other.client(t)
	// Sign in on the other server, which shares nothing but the keys: copy
	// the election to an organizer there.
	signUp(t, other, oc, "org@example.org")
	otherOwner := other.store.organizers["org@example.org"].ID
	oel := other.keysElection(otherOwner, "")
	tb := other.store.keyTable()
	tb.mu.Lock()
	tb.issued[oel.ID] = append(tb.issued[oel.ID], e.store.keyTable().issued[el.ID]...)
	tb.mu.Unlock()
	resp, body = get(t, oc, other.srv.URL+"/admin/elections/"+oel.ID.String()+"/keys.csv")
	if resp.StatusCode != http.StatusInternalServerError || lede(t, body) != "These keys were made with a different KEYS_SECRET from the one this server has, so they cannot be printed again. The keys already handed out still work; restore the earlier KEYS_SECRET to print them." {
		t.Fatalf("keys of another secret: %d %q", resp.StatusCode, body)
	}
}

func assertNoPlainKeys(t *testing.T, msgs []message, keys []string) {
	t.Helper()
	for _, m := range msgs {
		text := strings.ToUpper(string(m.body))
		for _, k := range keys {
			if strings.Contains(text, k) || strings.Contains(text, strings.ReplaceAll(k, "-", "")) {
				t.Errorf("%s message holds the plain key %s", m.key, k)
			}
		}
	}
}

// Each bad keys form is refused with words that say what to change.
func TestBadKeysForms(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	owner := e.store.organizers["org@example.org"].ID
	el := e.keysElection(owner, "")
	open := e.addElection(owner, "A", "B")
	open.Settings = runoff.DefaultSettings()
	for _, tc := range []struct {
		name string
		el   *runoff.Election
		form url.Values
		want string
	}{
		{"nothing", el, url.Values{}, "Enter how many keys to make, or list the voters one per line."},
		{"zero", el, url.Values{"count": {"0"}}, "Enter a number of keys between 1 and 5000."},
		{"too many", el, url.Values{"count": {"5001"}}, "Enter a number of keys between 1 and 5000."},
		{"words", el, url.Values{"count": {"ten"}}, "Enter a number of keys between 1 and 5000."},
		{"both", el, url.Values{"count": {"2"}, "voters": {"Ann"}}, "Enter a number of keys or a list of voters, not both."},
		{"long voter", el, url.Values{"voters": {strings.Repeat("x", 201)}}, "Voter 1 must be one line of at most 200 characters."},
		{"open link", open, url.Values{"count": {"2"}}, "This election is open to anyone with the link; voter keys are for elections set to vote with keys."},
	} {
		resp, body := post(t, c, e.srv.URL+"/admin/elections/"+tc.el.ID.String()+"/keys", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, resp.StatusCode)
			continue
		}
		if tc.el == open { // no keys section: the refusal is the page's notice
			if !strings.Contains(body, "Your change was not made. "+tc.want) {
				t.Errorf("%s: the page does not say %q", tc.name, tc.want)
			}
			continue
		}
		if msg, _ := errorSummary(t, body); msg != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, msg, tc.want)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("bad forms published %d messages", n)
	}
	// Without a KEYS_SECRET, no keys are made.
	bare := newKeysEnv(t, nil)
	bc := bare.client(t)
	signUp(t, bare, bc, "org@example.org")
	bel := bare.keysElection(bare.store.organizers["org@example.org"].ID, "")
	resp, body := post(t, bc, bare.srv.URL+"/admin/elections/"+bel.ID.String()+"/keys", url.Values{"count": {"2"}})
	if resp.StatusCode != http.StatusServiceUnavailable || lede(t, body) != "Voter keys cannot be made or printed here: this Runoff has no KEYS_SECRET configured." {
		t.Fatalf("no secret: %d %s", resp.StatusCode, body)
	}
}

// The web checks a voter's key before showing the ballot, publishes only
// its hash, and answers a missing, wrong or spent key with a page that
// says so.
func TestKeyedBallot(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	el := e.keysElection(uuid.New(), "")
	batch := uuid.Must(uuid.NewV7())
	var keys []string
	tb := e.store.keyTable()
	for i := range 2 {
		k := runoff.DeriveKey(keysSecret, el.ID, batch, i)
		keys = append(keys, k)
		tb.issued[el.ID] = append(tb.issued[el.ID], runoff.IssuedKey{Hash: runoff.HashKey(el.ID, k), Batch: batch, Index: i})
	}
	c := e.client(t)
	page := e.srv.URL + "/e/" + el.ID.String()

	resp, body := get(t, c, page)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="key"`) || strings.Contains(body, `name="rank1"`) {
		t.Fatalf("ballot page without a key: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, c, page+"?key=ABCD-EFGH-IJKL-MNOP")
	if msg, _ := errorSummary(t, body); resp.StatusCode != http.StatusForbidden || msg != "This is not one of this election's voter keys. Check it against the one you were given: 16 letters and digits, like ABCD-EFGH-JKLM-NPQR." || strings.Contains(body, `name="rank1"`) {
		t.Fatalf("wrong key: %d %q", resp.StatusCode, msg)
	}
	// Typed in lower case without dashes, the key opens the ballot, and
	// the form carries it.
	typed := strings.ToLower(strings.ReplaceAll(keys[0], "-", ""))
	resp, body = get(t, c, page+"?key="+typed)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="rank1"`) || !strings.Contains(body, `name="key" value="`+typed+`"`) {
		t.Fatalf("good key: %d\n%s", resp.StatusCode, body)
	}

	ballots := page + "/ballots"
	apple := el.Candidates[0].ID.String()
	for _, tc := range []struct {
		name, key, want string
	}{
		{"no key", "", "This election takes ballots only from voters with a key. Enter the key you were given."},
		{"wrong key", "ABCD-EFGH-IJKL-MNOP", "This is not one of this election's voter keys. Check it against the one you were given: 16 letters and digits, like ABCD-EFGH-JKLM-NPQR."},
		{"not a key", "hello", "This is not one of this election's voter keys. Check it against the one you were given: 16 letters and digits, like ABCD-EFGH-JKLM-NPQR."},
	} {
		resp, body := post(t, c, ballots, url.Values{"rank1": {apple}, "key": {tc.key}})
		if msg, _ := errorSummary(t, body); resp.StatusCode != http.StatusForbidden || msg != tc.want {
			t.Errorf("%s: %d %q, want 403 %q", tc.name, resp.StatusCode, msg, tc.want)
		}
	}
	if n := len(e.pub.messages()); n != 0 {
		t.Fatalf("refused ballots published %d messages", n)
	}
	resp, _ = post(t, c, ballots, url.Values{"rank1": {apple}, "key": {typed}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ballot with a key: %d", resp.StatusCode)
	}
	msgs := e.pub.messages()
	var v runoff.VoteSubmit
	if len(msgs) != 1 || json.Unmarshal(msgs[0].body, &v) != nil || v.KeyHash != runoff.HashKey(el.ID, keys[0]) {
		t.Fatalf("published %+v", msgs)
	}
	assertNoPlainKeys(t, msgs, keys)
	// The same browser may vote again with another key: the key decides,
	// not the cookie.
	if resp, body := get(t, c, page+"?key="+keys[1]); resp.StatusCode != 200 || !strings.Contains(body, `name="rank1"`) {
		t.Fatalf("second key in the same browser: %d", resp.StatusCode)
	}
	// Once the worker has counted it, the key is spent.
	e.useKey(v.KeyHash, runoff.KeyUse{Used: true})
	const spent = "A ballot has already been counted with this voter key, and each key casts one ballot. If you sent yours and then saw an error, it did arrive: it is that ballot that counts."
	resp, body = get(t, c, page+"?key="+keys[0])
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, spent) || strings.Contains(body, `name="rank1"`) || strings.Contains(body, `name="key"`) {
		t.Fatalf("spent key: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := post(t, c, ballots, url.Values{"rank1": {apple}, "key": {keys[0]}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, spent) {
		t.Fatalf("ballot with a spent key: %d", resp.StatusCode)
	}
}

// With changes allowed, a voter whose key has voted gets the ballot again
// with a link to their current ballot, whose receipt shows the ranking to
// the key's holder; a replaced ballot's receipt says so.
func TestChangeVoteWithKey(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	el := e.keysElection(uuid.New(), runoff.ChangesAllowed)
	batch := uuid.Must(uuid.NewV7())
	key := runoff.DeriveKey(keysSecret, el.ID, batch, 0)
	hash := runoff.HashKey(el.ID, key)
	e.store.keyTable().issued[el.ID] = []runoff.IssuedKey{{Hash: hash, Batch: batch}}
	old, current := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	e.store.mu.Lock()
	e.store.ballots[old] = &runoff.Ballot{ID: old, ElectionID: el.ID, Ranking: []uuid.UUID{el.Candidates[0].ID}, Status: runoff.BallotReplaced, Reason: runoff.ReasonReplaced}
	e.store.ballots[current] = &runoff.Ballot{ID: current, ElectionID: el.ID, Ranking: []uuid.UUID{el.Candidates[2].ID}, Status: runoff.BallotCounted}
	e.store.mu.Unlock()
	e.useKey(hash, runoff.KeyUse{Used: true, Ballot: current, SubmittedAt: time.Now()})

	c := e.client(t)
	resp, body := get(t, c, e.srv.URL+"/e/"+el.ID.String()+"?key="+key)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="rank1"`) || !strings.Contains(body, "You have already voted with this key") ||
		!strings.Contains(body, `href="/b/`+current.String()+`?key=`+key+`"`) {
		t.Fatalf("ballot for a used key with changes: %d\n%s", resp.StatusCode, body)
	}
	_, body = get(t, c, e.srv.URL+"/b/"+current.String()+"?key="+key)
	if !strings.Contains(body, "<li>Cherry</li>") {
		t.Fatalf("the key's holder does not see the current ranking:\n%s", body)
	}
	for _, u := range []string{"/b/" + current.String(), "/b/" + old.String() + "?key=" + key} {
		if _, body := get(t, c, e.srv.URL+u); strings.Contains(body, "<li>") && strings.Contains(body, "Cherry") || strings.Contains(body, "<li>Apple</li>") {
			t.Errorf("%s shows a ranking to a browser that did not cast it", u)
		}
	}
	_, body = get(t, c, e.srv.URL+"/b/"+old.String())
	if !strings.Contains(body, "replaced by a later ballot cast with the same voter key") {
		t.Fatalf("replaced receipt:\n%s", body)
	}
}

// The create form takes who may vote and whether a vote may change.
func TestCreateElectionWithKeys(t *testing.T) {
	e := newKeysEnv(t, keysSecret)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	form := url.Values{"title": {"Board"}, "candidates": {"A\nB"}, "access": {"keys"}, "changes": {"allowed"}}
	if resp, _ := post(t, c, e.srv.URL+"/admin/elections", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	var m runoff.ElectionCreate
	if msgs := e.pub.messages(); len(msgs) != 1 || json.Unmarshal(msgs[0].body, &m) != nil || m.Settings.Access != runoff.AccessKeys || m.Settings.Changes != runoff.ChangesAllowed {
		t.Fatalf("published %+v", m.Settings)
	}
	for _, tc := range []struct {
		access, changes, field, want string
	}{
		{"open", "allowed", "changes", "Only voters with keys can change their vote: with an open link, Runoff cannot tell whose ballot to replace."},
		{"everyone", "", "access", "Choose who may vote: anyone with the link, or holders of a voter key."},
	} {
		form.Set("access", tc.access)
		form.Set("changes", tc.changes)
		resp, body := post(t, c, e.srv.URL+"/admin/elections", form)
		if _, fields := errorSummary(t, body); resp.StatusCode != http.StatusUnprocessableEntity || fields[tc.field] != tc.want {
			t.Errorf("%s/%s: %d %q", tc.access, tc.changes, resp.StatusCode, fields)
		}
	}
}

// Inviting by email: only keys issued for an email address are sent, in
// batches through the worker; without email, the page says so; the route
// is the owner's.
func TestInviteByEmail(t *testing.T) {
	e := newEnvWith(t, func(s *handlers.Server) { s.KeysSecret, s.MailEnabled = keysSecret, true })
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	el := e.keysElection(e.store.organizers["org@example.org"].ID, "")
	batch := uuid.New()
	tb := e.store.keyTable()
	tb.mu.Lock()
	for i, label := range []string{"ann@example.org", "Bob", "BO@Example.org"} {
		tb.issued[el.ID] = append(tb.issued[el.ID], runoff.IssuedKey{Batch: batch, Index: i, Label: label})
	}
	tb.mu.Unlock()
	e.store.mu.Lock()
	el.KeysIssued = 3
	e.store.mu.Unlock()
	base := e.srv.URL + "/admin/elections/" + el.ID.String()
	resp, _ := post(t, c, base+"/keys/invite", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/elections/"+el.ID.String()+"?inviting=2#keys" {
		t.Fatalf("invite: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs := e.pub.messages()
	var m runoff.ElectionInvite
	if len(msgs) != 1 || msgs[0].key != runoff.KeyElectionInvite || json.Unmarshal(msgs[0].body, &m) != nil ||
		len(m.Invitees) != 2 || m.Invitees[1] != (runoff.Invitee{Batch: batch, Index: 2, Email: "bo@example.org"}) || m.Site != e.srv.URL {
		t.Fatalf("published %+v", m)
	}
	if strings.Contains(string(msgs[0].body), runoff.DeriveKey(keysSecret, el.ID, batch, 0)) {
		t.Fatal("a plain key in the message")
	}
	_, body := get(t, c, e.srv.URL+"/admin/elections/"+el.ID.String()+"?inviting=2")
	if !strings.Contains(body, "0 of 2 invitations sent") {
		t.Fatalf("progress lacking:\n%s", body)
	}
	stranger := e.client(t)
	signUp(t, e, stranger, "mallory@example.org")
	if resp, _ := post(t, stranger, base+"/keys/invite", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a stranger's invite: %d", resp.StatusCode)
	}
	noMail := newEnvWith(t, func(s *handlers.Server) { s.KeysSecret = keysSecret })
	c2 := noMail.client(t)
	signUp(t, noMail, c2, "org@example.org")
	el2 := noMail.keysElection(noMail.store.organizers["org@example.org"].ID, "")
	if resp, body := post(t, c2, noMail.srv.URL+"/admin/elections/"+el2.ID.String()+"/keys/invite", nil); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "This Runoff sends no email (SMTP_URL is not set), so it cannot send invitations.") {
		t.Fatalf("without email: %d", resp.StatusCode)
	}
}
