package main

import (
	"bytes"
	"testing"
)

// KEYS_SECRET: used as given; refused when short, naming the variable;
// when unset, derived from SESSION_KEY (the same on every process and
// after a restart, and not SESSION_KEY itself), or random with it.
func TestKeysSecretConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	session := "a-session-key-of-at-least-32-characters"
	given := "a-keys-secret-of-at-least-32-characters!"
	cfg, err := loadConfig(env(map[string]string{"SESSION_KEY": session, "KEYS_SECRET": given}))
	if err != nil || string(cfg.KeysSecret) != given || cfg.KeysSecretFrom != "" {
		t.Fatalf("given: %q from %q, %v", cfg.KeysSecret, cfg.KeysSecretFrom, err)
	}
	if _, err := loadConfig(env(map[string]string{"KEYS_SECRET": "short"})); err == nil ||
		err.Error() != "KEYS_SECRET is 5 characters; use at least 32 random ones (for example: openssl rand -hex 32)" {
		t.Fatalf("short: %v", err)
	}
	a, _ := loadConfig(env(map[string]string{"SESSION_KEY": session}))
	b, _ := loadConfig(env(map[string]string{"SESSION_KEY": session}))
	if a.KeysSecretFrom != "SESSION_KEY" || len(a.KeysSecret) != 32 || !bytes.Equal(a.KeysSecret, b.KeysSecret) || bytes.Contains([]byte(session), a.KeysSecret) {
		t.Fatalf("derived from SESSION_KEY: %x from %q, then %x", a.KeysSecret, a.KeysSecretFrom, b.KeysSecret)
	}
	c, _ := loadConfig(env(map[string]string{"SESSION_KEY": "another-session-key-of-32-characters-or-more"}))
	if bytes.Equal(a.KeysSecret, c.KeysSecret) {
		t.Fatal("two session keys derive the same keys secret")
	}
	r, _ := loadConfig(env(nil))
	if r.KeysSecretFrom != "random" || len(r.KeysSecret) != 32 {
		t.Fatalf("neither set: %x from %q", r.KeysSecret, r.KeysSecretFrom)
	}
}
