package main

import (
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// The broker: one URL or a cluster's several; each process its own user
// when WEB_AMQP_URL or WORKER_AMQP_URL say so, the shared one otherwise.
func TestConfigBrokerURLs(t *testing.T) {
	cluster := "amqp://u:p@a:5672/,amqps://u:p@b:5671/"
	cfg, err := loadConfig(env(map[string]string{"CLOUDAMQP_URL": cluster}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebAMQPURL != cluster || cfg.WorkerAMQPURL != cluster {
		t.Errorf("web %q, worker %q; want both %q", cfg.WebAMQPURL, cfg.WorkerAMQPURL, cluster)
	}
	cfg, err = loadConfig(env(map[string]string{"AMQP_URL": cluster,
		"WEB_AMQP_URL": "amqps://web:w@b/", "WORKER_AMQP_URL": "amqps://worker:w@b/"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebAMQPURL != "amqps://web:w@b/" || cfg.WorkerAMQPURL != "amqps://worker:w@b/" {
		t.Errorf("web %q, worker %q", cfg.WebAMQPURL, cfg.WorkerAMQPURL)
	}
	for name, bad := range map[string]string{
		"AMQP_URL":        "amqp://a/,http://b/",
		"WEB_AMQP_URL":    "a:5672",
		"WORKER_AMQP_URL": "amqp://",
	} {
		_, err := loadConfig(env(map[string]string{name: bad}))
		if err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming %s", name, bad, err, name)
		}
	}
}

// BALLOT_BUNDLES: bundles in flight by default, off, or a number; anything
// else is refused, naming the variable.
func TestConfigBallotBundles(t *testing.T) {
	for v, want := range map[string]int{"": 2, "off": 0, "1": 1, "8": 8, "64": 64} {
		cfg, err := loadConfig(env(map[string]string{"BALLOT_BUNDLES": v}))
		if err != nil || cfg.BallotBundles != want {
			t.Errorf("BALLOT_BUNDLES=%q: %d, %v; want %d", v, cfg.BallotBundles, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "65", "on", "true", "2x"} {
		_, err := loadConfig(env(map[string]string{"BALLOT_BUNDLES": bad}))
		if err == nil || !strings.HasPrefix(err.Error(), "BALLOT_BUNDLES") {
			t.Errorf("BALLOT_BUNDLES=%q: %v, want an error naming it", bad, err)
		}
	}
}
