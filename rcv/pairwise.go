package rcv

import (
	"math"
	"slices"
)

// computePairwise builds the head-to-head matrix over declared, non-excluded
// candidates. A ballot prefers X to Y when it ranks X at an earlier rank than
// its first mark for Y, or ranks X and not Y. Overvote marks count as ranked
// at that rank (level with each other); unknown overvotes are ignored.
func computePairwise(rules Rules, set *ballotSet) *Pairwise {
	p := newPairTally(rules)
	for bi := range set.counts {
		p.add(set.toks[set.offs[bi]:set.offs[bi+1]], set.counts[bi])
	}
	return p.result()
}

// pairTally sums the head-to-head matrix ballot by ballot. The sums are
// additive, so a Counter keeps one and adds each changed ranking's
// difference in count (which may be negative).
//
// Per ballot, only pairs of ranked candidates are visited, each once:
// above[a*k+b] counts ballots ranking a strictly above b, level[a*k+b]
// ballots marking both at the same rank (overvotes), ranked[a] ballots
// ranking a at all. Then a beats b on ranked[a] − above[b][a] − level[a][b]
// ballots (the rest of those that rank a rank it above b or leave b out).
type pairTally struct {
	names   []string
	nd, k   int
	pos     []int // declared candidate → its place in the matrix, or -1
	maxRank int32
	ranked  []int64
	above   []int64
	level   []int64
	seen    []int32 // ballot stamp: candidate already ranked on this ballot
	stamp   int32
	list    []int32 // first marks in rank order
	group   []int32 // and their rank's index
}

func newPairTally(rules Rules) *pairTally {
	nd := len(rules.Candidates)
	excluded := make(map[string]bool)
	for _, x := range rules.ExcludedCandidates {
		excluded[x] = true
	}
	p := &pairTally{nd: nd, pos: make([]int, nd+1)}
	for i := range p.pos {
		p.pos[i] = -1
	}
	for i, n := range rules.Candidates {
		if !excluded[n] {
			p.pos[i] = len(p.names)
			p.names = append(p.names, n)
		}
	}
	p.k = len(p.names)
	p.ranked, p.above, p.seen = make([]int64, p.k), make([]int64, p.k*p.k), make([]int32, p.k)
	p.maxRank = int32(rules.MaxRankingsAllowed)
	switch {
	case rules.MaxRankingsAllowed == Unlimited:
		p.maxRank = math.MaxInt32
	case p.maxRank <= 0:
		p.maxRank = int32(nd)
	}
	return p
}

// add counts w ballots with this ranking (tokens as in ballotSet).
func (p *pairTally) add(t []int32, w int64) {
	if p.k == 0 || w == 0 {
		return
	}
	p.stamp++
	if p.stamp == math.MaxInt32 {
		clear(p.seen)
		p.stamp = 1
	}
	k, stamp := p.k, p.stamp
	list, group := p.list[:0], p.group[:0]
	tied := false
	for j, g := 0, int32(0); j < len(t); g++ {
		rank, n := t[j], int(t[j+1])
		if rank > p.maxRank {
			break
		}
		added := 0
		for _, m := range t[j+2 : j+2+n] {
			if m < 0 || int(m) >= p.nd || p.pos[m] < 0 {
				continue
			}
			q := int32(p.pos[m])
			if p.seen[q] != stamp {
				p.seen[q] = stamp
				list = append(list, q)
				group = append(group, g)
				added++
			}
		}
		tied = tied || added > 1
		j += 2 + n
	}
	for x, a := range list {
		p.ranked[a] += w
		row := p.above[int(a)*k:]
		if !tied {
			for _, b := range list[x+1:] {
				row[b] += w
			}
			continue
		}
		for y := x + 1; y < len(list); y++ {
			b := list[y]
			if group[y] != group[x] {
				row[b] += w
				continue
			}
			if p.level == nil {
				p.level = make([]int64, k*k)
			}
			p.level[int(a)*k+int(b)] += w
			p.level[int(b)*k+int(a)] += w
		}
	}
	p.list, p.group = list, group
}

// result is the matrix and its Condorcet winner, if there is one.
func (p *pairTally) result() *Pairwise {
	k := p.k
	out := &Pairwise{Candidates: slices.Clone(p.names), Wins: make([][]int64, k)}
	for i := range k {
		out.Wins[i] = make([]int64, k)
	}
	for i := range k {
		for j := range k {
			if i != j {
				v := p.ranked[i] - p.above[j*k+i]
				if p.level != nil {
					v -= p.level[i*k+j]
				}
				out.Wins[i][j] = v
			}
		}
	}
	for i := range k {
		all := k > 1
		for j := range k {
			if i != j && out.Wins[i][j] <= out.Wins[j][i] {
				all = false
				break
			}
		}
		if all {
			out.CondorcetWinner = out.Candidates[i]
			break
		}
	}
	return out
}
