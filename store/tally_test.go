package store_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
	"github.com/runoff-vote/runoff/store/storetest"
)

// changeReader keeps a tally as a worker does: it reads what changed
// since the version it has, and applies each ranking's count.
type changeReader struct {
	version  int64
	rankings map[string]int64
	read     int // rows read by the last ReadTally
	zeros    int // rows that said a ranking is gone, over all reads
}

func (c *changeReader) Since(*runoff.Election) int64 { c.read = 0; return c.version }

func (c *changeReader) Expect(int, int) {}

func (c *changeReader) Ranking(r []uuid.UUID, n int64) error {
	c.read++
	if n == 0 {
		c.zeros++
		delete(c.rankings, fmt.Sprint(r))
	} else {
		c.rankings[fmt.Sprint(r)] = n
	}
	return nil
}

// A tally kept by reading only what changed since its version (ballots
// added, and ballots replaced under voter keys, some taking a ranking's
// last ballot) is the full tally after every batch, and reading again with
// nothing changed reads nothing.
func TestReadTallyChangesSince(t *testing.T) {
	db, _ := storetest.MustOpen(t)
	ctx := context.Background()
	m, keys := keysElection(t, db, runoff.ChangesAllowed, 8)
	other, _ := keysElection(t, db, runoff.ChangesAllowed, 1) // its counts must not show
	r := rand.New(rand.NewPCG(1, 2))
	kept := &changeReader{rankings: map[string]int64{}}
	for batch := range 30 {
		var votes []runoff.VoteSubmit
		for range 1 + r.IntN(4) {
			v := keyedVote(m, keys[r.IntN(len(keys))], time.Now(), 0)
			v.Ranking = nil
			for _, c := range r.Perm(3)[:1+r.IntN(2)] {
				v.Ranking = append(v.Ranking, m.Candidates[c].ID)
			}
			votes = append(votes, v)
		}
		votes = append(votes, keyedVote(other, "", time.Now(), 0)) // refused: no key
		if _, _, err := db.StoreVotes(ctx, votes); err != nil {
			t.Fatal(err)
		}
		tl, err := db.ReadTally(ctx, m.ElectionID, kept)
		if err != nil {
			t.Fatal(err)
		}
		kept.version = tl.Election.CountsVersion
		full := tallyOf(t, db, m.ElectionID)
		if !maps.Equal(kept.rankings, full.rankings) {
			t.Fatalf("batch %d: kept tally %v, full tally %v", batch, kept.rankings, full.rankings)
		}
		var sum int64
		for _, n := range kept.rankings {
			sum += n
		}
		if sum != tl.Election.BallotsCounted {
			t.Fatalf("batch %d: rankings sum to %d, %d ballots counted", batch, sum, tl.Election.BallotsCounted)
		}
		if _, err := db.ReadTally(ctx, m.ElectionID, kept); err != nil || kept.read != 0 {
			t.Fatalf("batch %d: nothing changed, read %d rankings (%v)", batch, kept.read, err)
		}
	}
	if kept.zeros == 0 {
		t.Error("no ranking lost its last ballot: the test should replace some")
	}
	all := &changeReader{version: -1, rankings: map[string]int64{}}
	if _, err := db.ReadTally(ctx, m.ElectionID, all); err != nil || all.zeros != 0 || !maps.Equal(all.rankings, kept.rankings) {
		t.Fatalf("a full read: %v, %d zeros, %v (want %v)", err, all.zeros, all.rankings, kept.rankings)
	}
	var _ store.TallyReader = kept
}
