package rcv

// threshold is a fixed-point value possibly finer than the contest's places
// (the bottoms-up percentage threshold is votes × percent, unrounded).
type threshold struct {
	units  int64
	places int
}

// roundThreshold is the threshold to win in this round, as RCTab's
// shouldRecomputeThreshold and calculateAndSetWinningThreshold: multi-seat
// contests fix it in round 1; single-seat ones (and bottoms-up percentage,
// whose seats are 0) recompute it every round unless the first round
// determines it, and freeze it once the seat is filled (continue until two
// candidates remain keeps counting after that).
func (e *engine) roundThreshold(round int, active int64) threshold {
	recompute := round == 1
	if e.seats <= 1 {
		recompute = recompute || (!e.rules.DoesFirstRoundDetermineThreshold && len(e.winners) == 0)
	}
	if !recompute {
		prev := e.rounds[round-2].Threshold
		return threshold{prev.Units, prev.Places}
	}
	return e.computeThreshold(active)
}

// computeThreshold derives the threshold from the round's active votes.
func (e *engine) computeThreshold(active int64) threshold {
	var thr threshold
	if e.percentageThreshold {
		pctUnits, pctPlaces, _ := parseDecimal(e.rules.MultiSeatBottomsUpPercentageThreshold, -1)
		// votes × pct / 100, exact.
		thr = threshold{active * pctUnits, e.places + pctPlaces + 2}
		for thr.places > e.places && thr.units%10 == 0 {
			thr.units /= 10
			thr.places--
		}
	} else {
		divisor := int64(e.seats + 1) // Droop
		if e.rules.HareQuota {
			divisor = int64(e.seats)
		}
		if divisor < 1 {
			divisor = 1
		}
		decimals := 0
		if e.rules.NonIntegerWinningThreshold {
			decimals = e.places
		}
		// active is scaled by 10^places; the quotient is wanted at decimals places.
		den := divisor * pow10[e.places-decimals]
		q := active / den
		if e.rules.HareQuota {
			if active%den != 0 {
				q++ // rounded up: "at least votes / seats"
			}
		} else {
			q++ // floor + the smallest unit: "more than votes / (seats + 1)"
		}
		thr = threshold{q * pow10[e.places-decimals], e.places}
	}
	if e.minimumVoteThreshold > 0 && e.compareToThreshold(e.minimumVoteThreshold, thr) > 0 {
		thr = threshold{e.minimumVoteThreshold, e.places}
	}
	return thr
}

// compareToThreshold compares a vote total (at the contest's places) with a
// threshold.
func (e *engine) compareToThreshold(v int64, t threshold) int {
	if t.places > e.places {
		v *= pow10[t.places-e.places]
	}
	switch {
	case v < t.units:
		return -1
	case v > t.units:
		return 1
	}
	return 0
}
