package runoff

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The hand-written encoding is json.Marshal's, byte for byte, so the
// worker reads it as before and nothing else need know.
func TestVoteSubmitAppendJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.UintN(256))
		}
		return u
	}
	cases := []VoteSubmit{
		{},
		{BallotID: id(), ElectionID: id(), Ranking: []uuid.UUID{}, SubmittedAt: time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)},
		{BallotID: id(), ElectionID: id(), Ranking: []uuid.UUID{id()}, SubmittedAt: time.Date(2026, 11, 26, 1, 2, 3, 400, time.FixedZone("x", 3600)), KeyHash: "abc123"},
		{BallotID: id(), KeyHash: "quote\" back\\slash <b>&amp; \x01 é \u2028 \xff"},
	}
	for range 200 {
		v := VoteSubmit{BallotID: id(), ElectionID: id(), SubmittedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()}
		for range rng.IntN(13) {
			v.Ranking = append(v.Ranking, id())
		}
		if rng.IntN(2) == 0 {
			v.KeyHash = id().String()
		}
		cases = append(cases, v)
	}
	for _, v := range cases {
		want, err := json.Marshal(v)
		got := v.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("\n got  %s\n want %s", got, want)
		}
	}
}

// Reading a ballot's message gives what encoding/json gave without
// UnmarshalJSON, for what the web writes and for anything else.
func TestVoteSubmitUnmarshalJSON(t *testing.T) {
	type plain VoteSubmit
	same := func(in []byte) {
		t.Helper()
		var got VoteSubmit
		gotErr := json.Unmarshal(in, &got)
		var want plain
		wantErr := json.Unmarshal(in, &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, encoding/json's %v", in, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, VoteSubmit(want)) {
			t.Fatalf("%s:\n read     %#v\n json's   %#v", in, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		v := VoteSubmit{BallotID: uuid.New(), ElectionID: uuid.New(), SubmittedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("", 3600*(rng.IntN(25)-12)))}
		if rng.IntN(5) > 0 {
			v.Ranking = []uuid.UUID{}
			for range rng.IntN(13) {
				v.Ranking = append(v.Ranking, uuid.New())
			}
		}
		if rng.IntN(2) == 0 {
			v.KeyHash = uuid.NewString()
		}
		b := v.AppendJSON(nil)
		same(b)
		// Damaged anywhere, or changed in form.
		for range 5 {
			d := []byte(string(b))
			const junk = " x\"\\{}[],:0Z-\x01"
			d[rng.IntN(len(d))] = junk[rng.IntN(len(junk))]
			same(d)
		}
		same(b[:rng.IntN(len(b))])
	}
	for _, s := range []string{
		`{"ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":null,"submitted_at":"2026-11-26T01:02:03Z"}`,
		`{ "ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T01:02:03Z"}`,
		`{"Ballot_ID":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T01:02:03Z","extra":1}`,
		`{"ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":["{00000000-0000-0000-0000-000000000003}"],"submitted_at":"2026-11-26T01:02:03Z"}`,
		`{"ballot_id":"00000000-0000-0000-0000-00000000000A","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T24:02:03Z"}`,
		`{"ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T01:02:03.5+01:00","key_hash":"a\u00e9\\n"}`,
		`{"ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T01:02:03Z","key_hash":"x"}  `,
		`{"ballot_id":"00000000-0000-0000-0000-000000000001","election_id":"00000000-0000-0000-0000-000000000002","ranking":[],"submitted_at":"2026-11-26T01:02:03Z","key_hash":"x","key_hash":"y"}`,
		`{}`, `[]`, `null`, ``,
	} {
		same([]byte(s))
	}
}
