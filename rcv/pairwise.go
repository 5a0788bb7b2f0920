package rcv

import "math"

// computePairwise builds the head-to-head matrix over declared, non-excluded
// candidates. A ballot prefers X to Y when it ranks X at an earlier rank than
// its first mark for Y, or ranks X and not Y. Overvote marks count as ranked
// at that rank (level with each other); unknown overvotes are ignored.
func computePairwise(rules Rules, set *ballotSet) *Pairwise {
	nd := len(rules.Candidates)
	excluded := make(map[string]bool)
	for _, x := range rules.ExcludedCandidates {
		excluded[x] = true
	}
	var cands []int
	pos := make([]int, nd+1)
	for i := range pos {
		pos[i] = -1
	}
	for i, n := range rules.Candidates {
		if !excluded[n] {
			pos[i] = len(cands)
			cands = append(cands, i)
		}
	}
	k := len(cands)
	p := &Pairwise{Wins: make([][]int64, k)}
	for i, c := range cands {
		p.Candidates = append(p.Candidates, rules.Candidates[c])
		p.Wins[i] = make([]int64, k)
	}
	if k == 0 {
		return p
	}
	// Per ballot, only pairs of ranked candidates are visited, each once:
	// above[a*k+b] counts ballots ranking a strictly above b, level[a*k+b]
	// ballots marking both at the same rank (overvotes), ranked[a] ballots
	// ranking a at all. Then a beats b on ranked[a] − above[b][a] − level[a][b]
	// ballots (the rest of those that rank a rank it above b or leave b out).
	ranked := make([]int64, k)
	above := make([]int64, k*k)
	var level []int64
	seen := make([]int32, k) // ballot stamp: candidate already ranked on this ballot
	var list, group []int32  // first marks in rank order, and their rank's index
	maxRank := int32(rules.MaxRankingsAllowed)
	switch {
	case rules.MaxRankingsAllowed == Unlimited:
		maxRank = math.MaxInt32
	case maxRank <= 0:
		maxRank = int32(nd)
	}
	for bi := range set.counts {
		w := set.counts[bi]
		stamp := int32(bi + 1)
		t := set.toks[set.offs[bi]:set.offs[bi+1]]
		list, group = list[:0], group[:0]
		tied := false
		for j, g := 0, int32(0); j < len(t); g++ {
			rank, n := t[j], int(t[j+1])
			if rank > maxRank {
				break
			}
			added := 0
			for _, m := range t[j+2 : j+2+n] {
				if m < 0 || int(m) >= nd || pos[m] < 0 {
					continue
				}
				q := int32(pos[m])
				if seen[q] != stamp {
					seen[q] = stamp
					list = append(list, q)
					group = append(group, g)
					added++
				}
			}
			tied = tied || added > 1
			j += 2 + n
		}
		for x, a := range list {
			ranked[a] += w
			row := above[int(a)*k:]
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
				if level == nil {
					level = make([]int64, k*k)
				}
				level[int(a)*k+int(b)] += w
				level[int(b)*k+int(a)] += w
			}
		}
	}
	for i := range k {
		for j := range k {
			if i != j {
				v := ranked[i] - above[j*k+i]
				if level != nil {
					v -= level[i*k+j]
				}
				p.Wins[i][j] = v
			}
		}
	}
	for i := range k {
		all := k > 1
		for j := range k {
			if i != j && p.Wins[i][j] <= p.Wins[j][i] {
				all = false
				break
			}
		}
		if all {
			p.CondorcetWinner = p.Candidates[i]
			break
		}
	}
	return p
}
