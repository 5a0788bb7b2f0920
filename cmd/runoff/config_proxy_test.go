package main

import "testing"

func TestTrustProxyConfig(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "TRUST_PROXY" {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]bool{"": false, "false": false, "true": true} {
		cfg, err := loadConfig(env(v))
		if err != nil || cfg.TrustProxy != want {
			t.Errorf("TRUST_PROXY=%q: %v, %v", v, cfg.TrustProxy, err)
		}
	}
	if _, err := loadConfig(env("yes")); err == nil || err.Error() != `TRUST_PROXY="yes": want true (behind a router that appends the client to X-Forwarded-For) or false` {
		t.Errorf("TRUST_PROXY=yes: %v", err)
	}
}
