package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/handlers"
)

// Signing out ends the session on the server: the old cookie, replayed,
// opens nothing.
func TestSignOutRevokesTheCookie(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	u, _ := url.Parse(e.srv.URL)
	old := c.Jar.Cookies(u)
	if resp, _ := get(t, c, e.srv.URL+"/admin"); resp.StatusCode != 200 {
		t.Fatalf("admin while signed in: %d", resp.StatusCode)
	}
	if resp, _ := post(t, c, e.srv.URL+"/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	replay := e.client(t)
	replay.Jar.SetCookies(u, old)
	if resp, _ := get(t, replay, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("an old cookie after sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A session ends after 12 hours unused, and "sign out everywhere" ends
// every session of the organizer.
func TestSessionsExpireAndEndEverywhere(t *testing.T) {
	e := newEnv(t)
	a := e.store.accounts()
	now := time.Now()
	a.now = func() time.Time { return now }
	laptop, phone := e.client(t), e.client(t)
	signUp(t, e, laptop, "org@example.org")
	if resp, _ := post(t, phone, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on the phone: %d", resp.StatusCode)
	}
	now = now.Add(11 * time.Hour)
	if resp, _ := get(t, laptop, e.srv.URL+"/admin"); resp.StatusCode != 200 {
		t.Fatalf("after 11 hours: %d", resp.StatusCode)
	}
	now = now.Add(12*time.Hour + time.Minute) // the phone was idle 23 hours, the laptop 12
	for name, c := range map[string]*http.Client{"laptop": laptop, "phone": phone} {
		if resp, _ := get(t, c, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s after 12 hours idle: %d", name, resp.StatusCode)
		}
	}
	// Sign in on both again, then sign out everywhere from one.
	for _, c := range []*http.Client{laptop, phone} {
		if resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in again: %d", resp.StatusCode)
		}
	}
	if resp, _ := post(t, laptop, e.srv.URL+"/logout/everywhere", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", resp.StatusCode)
	}
	if resp, _ := get(t, phone, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the phone after signing out everywhere: %d", resp.StatusCode)
	}
}

// Repeated wrong passwords lock the account for a while, with a page that
// says how long; the right password then waits too.
func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	signUp(t, e, c, "org@example.org")
	attacker := e.client(t)
	for i := range 5 {
		resp, _ := post(t, attacker, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"wrong password " + string(rune('a'+i))}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := post(t, attacker, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts. Try again in 15 minutes.") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The lock passes.
	a := e.store.accounts()
	a.mu.Lock()
	a.now = func() time.Time { return time.Now().Add(16 * time.Minute) }
	a.mu.Unlock()
	if resp, _ := post(t, attacker, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", resp.StatusCode)
	}
}

// Sign-ups are limited per client address: behind a router that appends
// the client's address to X-Forwarded-For, that address, not a forged one.
func TestSignUpThrottledPerAddress(t *testing.T) {
	e := newEnvWith(t, func(s *handlers.Server) { s.TrustProxy = true })
	signup := func(n int, forged string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/signup", strings.NewReader(url.Values{"email": {"u" + string(rune('a'+n)) + "@example.org"}, "password": {"correct horse battery"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", forged+", 203.0.113.7")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 10 {
		if code := signup(i, "198.51.100."+string(rune('0'+i))); code != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %d", i+1, code)
		}
	}
	if code := signup(11, "198.51.100.99"); code != http.StatusTooManyRequests {
		t.Fatalf("the 11th sign-up from one address (forged X-Forwarded-For entries aside): %d", code)
	}
}

// A signed-in organizer changes their password after giving the current
// one; every other session ends.
func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	c, other := e.client(t), e.client(t)
	signUp(t, e, c, "org@example.org")
	if resp, _ := post(t, other, e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("second sign-in")
	}
	resp, body := post(t, c, e.srv.URL+"/account/password", url.Values{"current": {"not it at all"}, "password": {"a new long password"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This is not your current password.") {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	resp, body = post(t, c, e.srv.URL+"/account/password", url.Values{"current": {"correct horse battery"}, "password": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a password of at least 10 characters.") {
		t.Fatalf("short new password: %d", resp.StatusCode)
	}
	resp, _ = post(t, c, e.srv.URL+"/account/password", url.Values{"current": {"correct horse battery"}, "password": {"a new long password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin?password=changed" {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := get(t, c, e.srv.URL+"/admin?password=changed"); !strings.Contains(body, "Your password is changed") {
		t.Fatal("this browser was signed out, or not told")
	}
	if resp, _ := get(t, other, e.srv.URL+"/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other session after the change: %d", resp.StatusCode)
	}
	if resp, _ := post(t, e.client(t), e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"a new long password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", resp.StatusCode)
	}
}

// A one-time link sets a new password once.
func TestResetLink(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, e.client(t), "org@example.org")
	a := e.store.accounts()
	a.mu.Lock()
	a.resets[runoff.ResetTokenHash("tok")] = e.store.organizers["org@example.org"].ID
	a.mu.Unlock()
	c := e.client(t)
	if resp, body := get(t, c, e.srv.URL+"/reset/tok"); resp.StatusCode != 200 || !strings.Contains(body, "Choose a new password") || strings.Contains(body, `name="current"`) {
		t.Fatalf("reset form: %d", resp.StatusCode)
	}
	if resp, _ := post(t, c, e.srv.URL+"/reset/tok", url.Values{"password": {"fresh and long enough"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, e.srv.URL+"/admin"); resp.StatusCode != 200 {
		t.Fatalf("signed in after the reset: %d", resp.StatusCode)
	}
	resp, body := post(t, e.client(t), e.srv.URL+"/reset/tok", url.Values{"password": {"another long password"}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This password link has been used or has expired") {
		t.Fatalf("the link used twice: %d", resp.StatusCode)
	}
}

// "Forgot your password?": without email, the page says whom to ask;
// with it, the request is published with the site to link to, the same
// answer whether or not the email has an account, and throttled.
func TestForgotPassword(t *testing.T) {
	e := newEnv(t)
	if _, body := get(t, e.srv.Client(), e.srv.URL+"/reset"); !strings.Contains(body, "This Runoff sends no email") {
		t.Fatal("without email, the page does not say whom to ask")
	}
	e = newEnvWith(t, func(s *handlers.Server) { s.MailEnabled = true })
	signUp(t, e, e.client(t), "org@example.org")
	for _, email := range []string{"ORG@example.org", "nobody@example.org"} {
		resp, body := post(t, e.client(t), e.srv.URL+"/reset", url.Values{"email": {email}})
		if resp.StatusCode != 200 || !strings.Contains(body, "an email is on its way") {
			t.Fatalf("%s: %d", email, resp.StatusCode)
		}
	}
	msgs := e.pub.messages()
	var m runoff.AccountReset
	if len(msgs) != 2 || msgs[0].key != runoff.KeyAccountReset || json.Unmarshal(msgs[0].body, &m) != nil || m.Email != "org@example.org" || m.Site != e.srv.URL {
		t.Fatalf("published %+v (%+v)", msgs, m)
	}
	for range 2 {
		post(t, e.client(t), e.srv.URL+"/reset", url.Values{"email": {"org@example.org"}})
	}
	if resp, body := post(t, e.client(t), e.srv.URL+"/reset", url.Values{"email": {"org@example.org"}}); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts") {
		t.Fatalf("the 4th link for one email within the hour: %d", resp.StatusCode)
	}
}

// After signing in, next= sends the organizer only to a local path: no
// scheme, no host, no control characters.
func TestSignInNextIsLocal(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, e.client(t), "org@example.org")
	for next, want := range map[string]string{
		"/admin/elections/new":      "/admin/elections/new",
		"https://evil.example/":     "/admin",
		"//evil.example/":           "/admin",
		"/\\evil.example/":          "/admin",
		"/admin\r\nSet-Cookie: x=1": "/admin",
		"/admin\tx":                 "/admin",
		"/admin\x00":                "/admin",
	} {
		resp, _ := post(t, e.client(t), e.srv.URL+"/login", url.Values{"email": {"org@example.org"}, "password": {"correct horse battery"}, "next": {next}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next=%q: %d %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}
