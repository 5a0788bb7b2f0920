package rcv

import (
	"fmt"
	"slices"
)

// Marks with special meaning in Ballot.Ranks.
const (
	// Overvote marks an overvote whose marks are unknown (the CSV literal
	// "overvote"). It should be the only mark at its rank.
	Overvote = -1
	// WriteIn marks an undeclared write-in (counted only when
	// Rules.UndeclaredWriteIn.Enabled).
	WriteIn = -2
)

// Ballot is one distinct ranking and how many ballots cast it.
// Ranks[i] holds the candidate indices (into Rules.Candidates) marked at rank
// i+1: empty = skipped rank, more than one = overvote with known marks.
type Ballot struct {
	Ranks [][]int
	Count int64
}

// Ranking is a convenience for a simple ranking, one candidate per rank.
func Ranking(count int64, candidates ...int) Ballot {
	b := Ballot{Count: count, Ranks: make([][]int, len(candidates))}
	for i, c := range candidates {
		b.Ranks[i] = []int{c}
	}
	return b
}

// ballotSet is the compact weighted form the tabulator works on. Ballot i's
// tokens are toks[offs[i]:offs[i+1]]: repeated (rank, n, mark×n) for every
// rank that has marks. Marks are candidate indices; ovMark is an unknown
// overvote; the undeclared write-in is candidate index nDeclared.
type ballotSet struct {
	counts []int64
	offs   []int32
	toks   []int32
	// index maps a ranking's hash to its ballot while building; rankings
	// whose hash collides with a different ranking go to overflow.
	index    map[uint64]int32
	overflow map[string]int32
	// Undervotes: ballots without a single mark are counted, not stored.
	blank int64
	// The rankings' marks alone, while every ranking is simple (simple.go).
	smarks    []uint16
	soffs     []int32
	notSimple bool
	// slowGrowth: see grow.
	slowGrowth bool
}

const ovMark = -1

func newBallotSet() *ballotSet { return newBallotSetSized(0) }

func newBallotSetSized(n int) *ballotSet {
	s := &ballotSet{index: make(map[uint64]int32, n)}
	s.offs = make([]int32, 1, n+1)
	s.counts = make([]int64, 0, n)
	return s
}

func hashToks(toks []int32) uint64 {
	h := uint64(14695981039346656037)
	for _, t := range toks {
		h ^= uint64(uint32(t))
		h *= 1099511628211
		h ^= h >> 29
	}
	return h
}

// add records count ballots with one ranking, given as a token stream
// (rank, n, marks...) for each rank that has marks.
func (s *ballotSet) add(toks []int32, count int64) {
	if len(toks) == 0 {
		s.blank += count
		return
	}
	if i, ok := s.find(toks); ok {
		s.counts[i] += count
		return
	}
	s.insert(toks, count)
}

// find returns the ballot with this ranking (not blank), if there is one.
func (s *ballotSet) find(toks []int32) (int32, bool) {
	h := hashToks(toks)
	i, ok := s.index[h]
	if !ok {
		return 0, false
	}
	if slices.Equal(s.toks[s.offs[i]:s.offs[i+1]], toks) {
		return i, true
	}
	j, ok := s.overflow[fmt.Sprint(toks)]
	return j, ok
}

// insert adds a ranking that find did not find, and returns its index.
func (s *ballotSet) insert(toks []int32, count int64) int32 {
	n := int32(len(s.counts))
	h := hashToks(toks)
	if _, taken := s.index[h]; taken {
		if s.overflow == nil {
			s.overflow = make(map[string]int32)
		}
		s.overflow[fmt.Sprint(toks)] = n
	} else {
		s.index[h] = n
	}
	s.counts = append(grow(s.counts, 1, s.slowGrowth), count)
	s.toks = append(grow(s.toks, len(toks), s.slowGrowth), toks...)
	s.offs = append(grow(s.offs, 1, s.slowGrowth), int32(len(s.toks)))
	return n
}

// grow makes room for n more elements by doubling: append grows a large
// slice by a quarter at a time, which for a set read a ranking at a time
// allocates five times its final size. A set that is mostly read already
// (slowly) grows by an eighth, rather than holding twice what it needs.
func grow[T any](s []T, n int, slowly bool) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	more := cap(s)
	if slowly {
		more = cap(s) / 8
	}
	out := make([]T, len(s), max(cap(s)+more, len(s)+n, 64))
	copy(out, s)
	return out
}

func (s *ballotSet) len() int { return len(s.counts) }

func (s *ballotSet) total() int64 {
	t := s.blank
	for _, c := range s.counts {
		t += c
	}
	return t
}

// Contest is a parsed ballot file: candidate names and weighted distinct rankings.
type Contest struct {
	Candidates []string // declared candidates, in rules order (then order of first appearance)
	set        *ballotSet
	hasWriteIn bool
}

// NumDistinct is the number of distinct rankings.
func (c *Contest) NumDistinct() int { return c.set.len() }

// TotalBallots counts every ballot, including blank ones.
func (c *Contest) TotalBallots() int64 { return c.set.total() }

// Ballots expands the contest into Ballot values (blank ballots included as
// one entry with no ranks).
func (c *Contest) Ballots() []Ballot {
	s := c.set
	out := make([]Ballot, 0, s.len()+1)
	nd := len(c.Candidates)
	for i := range s.counts {
		var ranks [][]int
		toks := s.toks[s.offs[i]:s.offs[i+1]]
		for j := 0; j < len(toks); {
			rank, n := int(toks[j]), int(toks[j+1])
			for len(ranks) < rank {
				ranks = append(ranks, []int{})
			}
			marks := make([]int, n)
			for m := range n {
				v := int(toks[j+2+m])
				switch {
				case v == ovMark:
					v = Overvote
				case v == nd:
					v = WriteIn
				}
				marks[m] = v
			}
			ranks[rank-1] = marks
			j += 2 + n
		}
		out = append(out, Ballot{Ranks: ranks, Count: s.counts[i]})
	}
	if s.blank > 0 {
		out = append(out, Ballot{Count: s.blank})
	}
	return out
}

// ballotsToSet converts API ballots into the compact form, checking indices.
func ballotsToSet(ballots []Ballot, nDeclared int) (*ballotSet, error) {
	// Sized once: a million-ballot election gives hundreds of thousands of
	// distinct rankings, and growing by appending held every old copy too.
	ntoks := 0
	for _, b := range ballots {
		for _, marks := range b.Ranks {
			if len(marks) > 0 {
				ntoks += 2 + len(marks)
			}
		}
	}
	s := newBallotSetSized(len(ballots))
	s.toks = make([]int32, 0, ntoks)
	var toks []int32
	for bi, b := range ballots {
		if b.Count < 0 {
			return nil, fmt.Errorf("rcv: ballot %d: negative count %d", bi, b.Count)
		}
		if b.Count == 0 {
			continue
		}
		var err error
		if toks, err = ballotTokens(toks[:0], b, nDeclared); err != nil {
			return nil, fmt.Errorf("rcv: ballot %d %w", bi, err)
		}
		s.add(toks, b.Count)
	}
	s.index, s.overflow = nil, nil
	return s, nil
}

// ballotTokens appends b's ranking to dst as tokens: (rank, n, marks…) for
// each rank that has marks, the marks of a rank sorted.
func ballotTokens(dst []int32, b Ballot, nDeclared int) ([]int32, error) {
	for ri, marks := range b.Ranks {
		if len(marks) == 0 {
			continue
		}
		dst = append(dst, int32(ri+1), int32(len(marks)))
		start := len(dst)
		for _, m := range marks {
			switch {
			case m == Overvote:
				dst = append(dst, ovMark)
			case m == WriteIn:
				dst = append(dst, int32(nDeclared))
			case m >= 0 && m < nDeclared:
				dst = append(dst, int32(m))
			default:
				return dst, fmt.Errorf("rank %d: candidate index %d out of range", ri+1, m)
			}
		}
		slices.Sort(dst[start:])
	}
	return dst, nil
}
