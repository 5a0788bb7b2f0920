package rcv

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
)

// javaRandom reproduces java.util.Random, which RCTab seeds with randomSeed.
type javaRandom struct{ seed uint64 }

const (
	jrMult = 0x5DEECE66D
	jrAdd  = 0xB
	jrMask = 1<<48 - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (uint64(seed) ^ jrMult) & jrMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*jrMult + jrAdd) & jrMask
	return int32(int64(r.seed) >> (48 - bits))
}

func (r *javaRandom) nextDouble() float64 {
	return float64(int64(r.next(26))<<27+int64(r.next(27))) * (1.0 / (1 << 53))
}

func (r *javaRandom) nextInt(bound int32) int32 {
	if bound&(-bound) == bound {
		return int32((int64(bound) * int64(r.next(31))) >> 31)
	}
	for {
		bits := r.next(31)
		val := bits % bound
		if bits-val+(bound-1) >= 0 { // int32 overflow check as in Java
			return val
		}
	}
}

// shuffle is java.util.Collections.shuffle on a random-access list.
func (r *javaRandom) shuffle(s []string) {
	for i := len(s); i > 1; i-- {
		j := r.nextInt(int32(i))
		s[i-1], s[j] = s[j], s[i-1]
	}
}

// javaHashSetOrder returns names in the iteration order of a java.util.HashSet
// built from them (RCTab builds one when comparing previous-round counts, and
// a later random draw indexes into that order).
func javaHashSetOrder(names []string) []string {
	capacity := 16
	need := int(float32(len(names))/0.75) + 1
	for capacity < need {
		capacity <<= 1
	}
	type entry struct {
		bucket int
		pos    int
	}
	order := make([]entry, len(names))
	for i, n := range names {
		var h int32
		for _, u := range utf16.Encode([]rune(n)) {
			h = 31*h + int32(u)
		}
		spread := h ^ int32(uint32(h)>>16)
		order[i] = entry{int(spread) & (capacity - 1), i}
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return order[a].bucket - order[b].bucket })
	out := make([]string, len(names))
	for i, k := range idx {
		out[i] = names[k]
	}
	return out
}

// breakTie picks the loser (elimination) or winner (election) among tied
// candidates, following the contest's tiebreakMode.
func (e *engine) breakTie(round int, kind TieKind, tied []int) (int, error) {
	names := make([]string, len(tied))
	for i, c := range tied {
		names[i] = e.names[c]
	}
	slices.Sort(names)
	votes := Votes{e.tally[tied[0]], e.places}
	idx := make(map[string]int, len(tied))
	for _, c := range tied {
		idx[e.names[c]] = c
	}
	mode := e.rules.TiebreakMode
	tb := TieBreak{Pass: e.pass, Round: round, Kind: kind, Tied: names, Votes: votes, Rule: mode}
	electing := kind == TieElection
	var sel string
	var err error
	switch mode {
	case TiebreakUseCandidateOrder, TiebreakGeneratePermutation:
		sel = e.byPermutation(names, electing)
		tb.Explanation = fmt.Sprintf("The selected candidate appeared %s in the tie-breaking candidate order.", map[bool]string{true: "earliest", false: "latest"}[electing])
	case TiebreakRandom:
		sel = names[e.randomIndex(len(names))]
		tb.Explanation = fmt.Sprintf("The candidate was randomly selected (seed %d).", e.rules.RandomSeed)
	case TiebreakStopCountingAndAsk:
		sel, err = e.ask(round, kind, names, votes)
		tb.Explanation = "The selected candidate was supplied by the operator."
	default: // previous round counts, then something
		contention := names
		for r := round - 1; r >= 1 && len(contention) > 1; r-- {
			rt := e.tallyByRound[r-1]
			contention = javaHashSetOrder(contention)
			best := rt[idx[contention[0]]]
			for _, n := range contention[1:] {
				v := rt[idx[n]]
				if (electing && v > best) || (!electing && v < best) {
					best = v
				}
			}
			var next []string
			for _, n := range contention {
				if rt[idx[n]] == best {
					next = append(next, n)
				}
			}
			contention = next
			if len(contention) == 1 {
				sel = contention[0]
				tb.Explanation = fmt.Sprintf("%s had the %s votes (%s) in round %d.", sel,
					map[bool]string{true: "most", false: "fewest"}[electing], Votes{best, e.places}, r)
			}
		}
		if len(contention) > 1 {
			prefix := fmt.Sprintf("Previous round counts still left a tie among %s, so ", strings.Join(contention, ", "))
			switch mode {
			case TiebreakPreviousRoundCountsThenRandom:
				sel = contention[e.randomIndex(len(contention))]
				tb.Explanation = prefix + fmt.Sprintf("the candidate was randomly selected (seed %d).", e.rules.RandomSeed)
			case TiebreakPreviousRoundCountsThenAsk:
				sorted := slices.Sorted(slices.Values(contention))
				sel, err = e.ask(round, kind, sorted, votes)
				tb.Explanation = prefix + "the selected candidate was supplied by the operator."
			default: // TiebreakPreviousRoundCountsThenCandidateOrder
				sel = e.byPermutation(contention, electing)
				tb.Explanation = prefix + fmt.Sprintf("the candidate listed %s was selected.", map[bool]string{true: "earliest", false: "latest"}[electing])
			}
		}
	}
	if err != nil {
		return -1, err
	}
	tb.Selected = sel
	e.tieBreaks = append(e.tieBreaks, tb)
	return idx[sel], nil
}

func (e *engine) randomIndex(n int) int {
	if e.random == nil {
		e.random = newJavaRandom(e.rules.RandomSeed)
	}
	return int(e.random.nextDouble() * float64(n))
}

// byPermutation returns the earliest (electing) or latest (eliminating) of
// names in the tie-break permutation; candidates not listed are never chosen
// while a listed one is tied.
func (e *engine) byPermutation(names []string, electing bool) string {
	in := make(map[string]bool, len(names))
	for _, n := range names {
		in[n] = true
	}
	if electing {
		for _, p := range e.tieBreakOrder {
			if in[p] {
				return p
			}
		}
	} else {
		for k := len(e.tieBreakOrder) - 1; k >= 0; k-- {
			if in[e.tieBreakOrder[k]] {
				return e.tieBreakOrder[k]
			}
		}
	}
	if electing {
		return names[0]
	}
	return names[len(names)-1]
}

func (e *engine) ask(round int, kind TieKind, names []string, votes Votes) (string, error) {
	for _, d := range e.rules.TieDecisions {
		if d.Round != round || d.Kind != kind || (d.Pass != 0 && d.Pass != e.pass) {
			continue
		}
		if len(d.Candidates) > 0 && !sameSet(d.Candidates, names) {
			continue
		}
		if slices.Contains(names, d.Selected) {
			return d.Selected, nil
		}
	}
	return "", &TieNeedsDecision{Pass: e.pass, Round: round, Kind: kind, Candidates: names, Votes: votes}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(x, y)
}
