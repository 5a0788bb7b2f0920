package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// saved writes a session with these values through the store and returns
// the Set-Cookie line.
func saved(t *testing.T, st *SealedStore, name string, values map[any]any, opts func(*sessions.Options)) string {
	t.Helper()
	r := httptest.NewRequest("POST", "/", nil)
	sess, err := st.New(r, name)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		sess.Values[k] = v
	}
	if opts != nil {
		opts(sess.Options)
	}
	w := httptest.NewRecorder()
	if err := st.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	lines := w.Result().Header.Values("Set-Cookie")
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie lines: %q", lines)
	}
	return lines[0]
}

// read is the session a request carrying cookie would get.
func read(st *SealedStore, name string, cookie *http.Cookie) (*sessions.Session, error) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	return st.New(r, name)
}

func TestSealedStoreRoundTrip(t *testing.T) {
	st := NewCookieStore(testSecret, true)
	receipts := []pendingReceipt{{BallotID: "b1", ElectionID: "e1", ElectionTitle: "Board <2026>", Ranking: []string{"Ada", "Grace"}}}
	line := saved(t, st, receiptsName, map[any]any{"receipts": receipts, "sid": "s1", "voted": []string{"e1 b1"}}, nil)
	c, err := http.ParseSetCookie(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if !strings.HasPrefix(c.Value, sealedPrefix) || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		c.MaxAge != 30*24*3600 || time.Until(c.Expires) < 29*24*time.Hour {
		t.Fatalf("cookie written as %q", line)
	}
	if strings.Contains(line, "Ada") || strings.Contains(line, "Board") {
		t.Fatalf("the cookie shows its values: %q", line)
	}
	sess, err := read(st, receiptsName, c)
	if err != nil || sess.IsNew {
		t.Fatalf("read back: new=%v err=%v", sess.IsNew, err)
	}
	got, _ := sess.Values["receipts"].([]pendingReceipt)
	if len(got) != 1 || got[0].ElectionTitle != "Board <2026>" || len(got[0].Ranking) != 2 || sess.Values["sid"] != "s1" {
		t.Fatalf("read back %#v", sess.Values)
	}
}

// What http.SetCookie would have written, attribute for attribute.
func TestSealedStoreCookieLineMatchesNetHTTP(t *testing.T) {
	now := time.Now()
	for _, o := range []sessions.Options{
		{Path: "/", MaxAge: 400 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		{Path: "/", MaxAge: 3600, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode},
		{Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		{Path: "/admin", MaxAge: 0, SameSite: http.SameSiteNoneMode, Secure: true},
	} {
		ours, err := http.ParseSetCookie(cookieLine("runoff", "2.abc", &o, now))
		if err != nil {
			t.Fatal(err)
		}
		want, err := http.ParseSetCookie(sessions.NewCookie("runoff", "2.abc", &o).String())
		if err != nil {
			t.Fatal(err)
		}
		if d := ours.Expires.Sub(want.Expires); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%+v: expires %v, net/http %v", o, ours.Expires, want.Expires)
		}
		ours.Expires, want.Expires, ours.Raw, want.Raw = time.Time{}, time.Time{}, "", ""
		if ours.String() != want.String() {
			t.Errorf("%+v:\n ours     %s\n net/http %s", o, ours, want)
		}
	}
}

// A cookie changed by one character, renamed, sealed under another secret,
// or older than its lifetime gives an empty session.
func TestSealedStoreRefusesWhatItDidNotWrite(t *testing.T) {
	st := NewCookieStore(testSecret, false)
	line := saved(t, st, votedName, map[any]any{"voted": []string{"e1 b1"}}, nil)
	c, _ := http.ParseSetCookie(line)
	refused := func(what string, name string, c *http.Cookie) {
		t.Helper()
		sess, err := read(st, name, c)
		if err == nil || !sess.IsNew || len(sess.Values) != 0 {
			t.Errorf("%s: taken (%v, %#v)", what, err, sess.Values)
		}
	}
	b := []byte(c.Value)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	refused("tampered", votedName, &http.Cookie{Name: votedName, Value: string(b)})
	refused("truncated", votedName, &http.Cookie{Name: votedName, Value: c.Value[:20]})
	refused("renamed", receiptsName, &http.Cookie{Name: receiptsName, Value: c.Value})
	other := NewCookieStore([]byte("another secret, 32 bytes long...."), false)
	c2, _ := http.ParseSetCookie(saved(t, other, votedName, map[any]any{"voted": []string{"e1 b1"}}, nil))
	refused("another key", votedName, c2)

	old, err := st.encode(votedName, map[any]any{"voted": []string{"e1 b1"}}, time.Now().Add(-sessionCookieMaxAge-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	refused("expired", votedName, &http.Cookie{Name: votedName, Value: old})
	fresh, _ := st.encode(votedName, map[any]any{"voted": []string{"e1 b1"}}, time.Now().Add(-sessionCookieMaxAge+time.Minute))
	if sess, err := read(st, votedName, &http.Cookie{Name: votedName, Value: fresh}); err != nil || sess.IsNew {
		t.Errorf("a cookie within its lifetime was refused: %v", err)
	}
}

// Cookies the CookieStore wrote before (securecookie: AES-CTR, HMAC) are
// still read, so an upgrade signs no organizer out and forgets no receipt.
func TestSealedStoreReadsCookieStoreCookies(t *testing.T) {
	st := NewCookieStore(testSecret, false)
	value, err := securecookie.EncodeMulti(sessionName, map[any]any{"sid": "s1"}, st.legacy...)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := read(st, sessionName, &http.Cookie{Name: sessionName, Value: value})
	if err != nil || sess.Values["sid"] != "s1" {
		t.Fatalf("legacy cookie: %v %#v", err, sess.Values)
	}
	// Written again, it is sealed.
	w := httptest.NewRecorder()
	if err := st.Save(httptest.NewRequest("GET", "/", nil), w, sess); err != nil {
		t.Fatal(err)
	}
	c, _ := http.ParseSetCookie(w.Result().Header.Get("Set-Cookie"))
	if !strings.HasPrefix(c.Value, sealedPrefix) {
		t.Fatalf("rewritten as %q", c.Value)
	}
}

// Signing out deletes the cookie.
func TestSealedStoreDeletes(t *testing.T) {
	st := NewCookieStore(testSecret, false)
	line := saved(t, st, sessionName, map[any]any{"sid": "s1"}, func(o *sessions.Options) { o.MaxAge = -1 })
	c, _ := http.ParseSetCookie(line)
	if c.Value != "" || c.MaxAge >= 0 || !c.Expires.Before(time.Unix(2, 0)) {
		t.Fatalf("deleting wrote %q", line)
	}
}
