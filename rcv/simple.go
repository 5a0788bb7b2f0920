package rcv

// Most contests' ballots, and all of Runoff's own, are simple: one
// candidate at each rank from rank 1 on, with no overvote and no rank
// skipped. For those the engine walks a compact form instead of the tokens
// (a mark each rather than three int32s a rank, and one record per ballot
// rather than four arrays): the walk is the same, but a count of a large
// contest spends most of its time waiting for memory, and reads a fifth as
// much. scan and scanSimple must agree (TestPropertySimpleWalkEqualsScan).

// simpleMarks returns the set's rankings as their marks alone, ranking i
// being marks[offs[i]:offs[i+1]], if every ranking is simple. The form is
// kept with the set and extended as rankings are added.
func (s *ballotSet) simpleMarks() (marks []uint16, offs []int32, ok bool) {
	if s.notSimple {
		return nil, nil, false
	}
	if len(s.soffs) == 0 {
		s.soffs = append(s.soffs, 0)
	}
	for i := len(s.soffs) - 1; i < s.len(); i++ {
		toks := s.toks[s.offs[i]:s.offs[i+1]]
		for j, r := 0, int32(1); j < len(toks); j, r = j+3, r+1 {
			if toks[j] != r || toks[j+1] != 1 || toks[j+2] < 0 || toks[j+2] > 0xffff {
				s.notSimple, s.smarks, s.soffs = true, nil, nil
				return nil, nil, false
			}
			s.smarks = append(grow(s.smarks, 1, s.slowGrowth), uint16(toks[j+2]))
		}
		s.soffs = append(grow(s.soffs, 1, s.slowGrowth), int32(len(s.smarks)))
	}
	return s.smarks, s.soffs, true
}

// simpleBallot is where a simple ballot is in its walk: it counts for
// marks[at], and reads no further than end (its last rank, or the last
// that maxRankingsAllowed lets count).
type simpleBallot struct {
	at, end int32
	count   int64
}

// walksSimply says whether this count can walk the compact form: the
// ballots are simple, and no rule looks at more than the order of the
// marks (a ballot's value never changes without surplus transfers, and
// duplicates are skipped unless they exhaust).
func (e *engine) walksSimply() bool {
	if e.transfersSurplus || e.rules.ExhaustOnDuplicateCandidate || e.opts.rescanFromRankOne || e.opts.noSimpleWalk {
		return false
	}
	marks, offs, ok := e.set.simpleMarks()
	if !ok {
		return false
	}
	e.smarks = marks
	e.simple = make([]simpleBallot, e.set.len())
	for i := range e.simple {
		end := offs[i+1]
		if n := offs[i+1] - offs[i]; n > e.maxRankings {
			end = offs[i] + e.maxRankings
		}
		e.simple[i] = simpleBallot{at: offs[i], end: end, count: e.set.counts[i]}
	}
	return true
}

// scanSimple is scan for a simple ballot: it finds ballot i's next
// continuing choice, or exhausts it.
func (e *engine) scanSimple(i int32, row []int64) {
	b := &e.simple[i]
	if b.at == b.end { // no rank within maxRankingsAllowed
		e.undervotes += b.count
		return
	}
	for j := b.at; j < b.end; j++ {
		m := e.smarks[j]
		if !e.continuing[m] {
			continue
		}
		b.at = j
		e.credit(int(m), i, e.scale*b.count, row)
		return
	}
	w := e.scale * b.count
	e.inactive[statusExhaustedChoices] += w
	if row != nil {
		row[targetExhausted+2] += w
	}
}
