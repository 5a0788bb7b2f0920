package handlers

import (
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
