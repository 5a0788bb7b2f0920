package rcv

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
	// beatsUnranked[i] accumulates ballots that rank i; wins against every
	// candidate are then corrected for the candidates ranked on the same ballot.
	ranked := make([]int64, k)
	corr := make([]int64, k*k) // subtract: i ranked but j ranked at or above i
	first := make([]int32, k)  // rank of first mark, per ballot (0 = unranked)
	var list []int
	maxRank := int32(rules.MaxRankingsAllowed)
	if maxRank <= 0 {
		maxRank = int32(nd)
	}
	for b := range set.counts {
		w := set.counts[b]
		t := set.toks[set.offs[b]:set.offs[b+1]]
		list = list[:0]
		for j := 0; j < len(t); {
			rank, n := t[j], int(t[j+1])
			if rank > maxRank {
				break
			}
			for _, m := range t[j+2 : j+2+n] {
				if m < 0 || int(m) >= nd || pos[m] < 0 {
					continue
				}
				q := pos[m]
				if first[q] == 0 {
					first[q] = rank
					list = append(list, q)
				}
			}
			j += 2 + n
		}
		for _, i := range list {
			ranked[i] += w
			ri := first[i]
			for _, j := range list {
				if first[j] <= ri {
					corr[i*k+j] += w
				}
			}
		}
		for _, i := range list {
			first[i] = 0
		}
	}
	for i := range k {
		for j := range k {
			if i != j {
				p.Wins[i][j] = ranked[i] - corr[i*k+j]
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
