package handlers

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gorilla/securecookie"
)

// Session values survive the JSON cookie, and a cookie gob wrote (before
// the JSON codec) is still read.
func TestCookieValuesRoundTrip(t *testing.T) {
	values := map[any]any{
		keySession: "abc",
		"voted":    []string{"e1 b1", "e2 b2"},
		"receipts": []pendingReceipt{{BallotID: "b", ElectionID: "e", ElectionTitle: "T", Ranking: []string{"A", "B"}}},
	}
	b, err := cookieValues{}.Serialize(values)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0 {
		t.Fatalf("serialised as %q, want the JSON form", b)
	}
	got := map[any]any{}
	if err := (cookieValues{}).Deserialize(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, values) {
		t.Errorf("read back %#v, want %#v", got, values)
	}

	old, err := securecookie.GobEncoder{}.Serialize(values)
	if err != nil {
		t.Fatal(err)
	}
	got = map[any]any{}
	if err := (cookieValues{}).Deserialize(old, &got); err != nil {
		t.Fatalf("a gob cookie: %v", err)
	}
	if !reflect.DeepEqual(got, values) {
		t.Errorf("gob cookie read as %#v, want %#v", got, values)
	}

	// A value of a type JSON would not give back as it was goes by gob.
	other := map[any]any{"n": 3}
	b, err = cookieValues{}.Serialize(other)
	if err != nil {
		t.Fatal(err)
	}
	got = map[any]any{}
	if err := (cookieValues{}).Deserialize(b, &got); err != nil || got["n"] != 3 {
		t.Errorf("gob fallback: %#v, %v", got, err)
	}
}

// The hand-written JSON is what json.Marshal would write for the same
// values, byte for byte, including odd text and empty or missing lists.
func TestCookieValuesWritesWhatJSONWould(t *testing.T) {
	for _, values := range []map[any]any{
		{},
		{keySession: "abc"},
		{"voted": []string{}, "x": []string(nil)},
		{"b": "2", "a": "1 <&> \"q\" \\ \x01 é \u2028", "voted": []string{"e1 b1", "e2 b2"}, "pending": []string{"p"},
			"receipts": []pendingReceipt{{BallotID: "b", ElectionID: "e", ElectionTitle: "Board <2026> & \"co\"", Ranking: []string{"Ada", "Zoë"}}, {}},
			"none":     []pendingReceipt(nil)},
	} {
		var c cookieJSON
		for k, v := range values {
			switch v := v.(type) {
			case string:
				if c.S == nil {
					c.S = map[string]string{}
				}
				c.S[k.(string)] = v
			case []string:
				if c.L == nil {
					c.L = map[string][]string{}
				}
				c.L[k.(string)] = v
			case []pendingReceipt:
				if c.R == nil {
					c.R = map[string][]pendingReceipt{}
				}
				c.R[k.(string)] = v
			}
		}
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cookieValues{}.Serialize(values)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[1:]) != string(want) || got[0] != 0 {
			t.Errorf("\n got  %q\n want %q", got, want)
		}
	}
}
