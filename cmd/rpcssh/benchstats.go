package main

import (
	"math"
	"math/bits"
	"time"
)

// latencyHist is a log-linear histogram of durations in nanoseconds, in the
// manner of HdrHistogram: each power of two is split into histSub linear
// sub-buckets, so a percentile is within 1/histSub (about 1.6 %) of the
// true value, whatever the number of samples, in fixed memory. Min, max,
// sum and count are exact. The zero value is empty and ready to use; it is
// not safe for concurrent use (give each worker its own and merge).
type latencyHist struct {
	counts [histBuckets]int64
	n      int64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits // linear sub-buckets per power of two
	// Values below histSub ns go in their own exact buckets; above that one
	// row of histSub buckets per power of two up to 2^63.
	histBuckets = histSub + (64-histSubBits)*histSub
)

// histIndex maps a non-negative duration to its bucket.
func histIndex(d time.Duration) int {
	v := uint64(d)
	if v < histSub {
		return int(v)
	}
	exp := bits.Len64(v) - 1 // v in [2^exp, 2^(exp+1)), exp >= histSubBits
	shift := exp - histSubBits
	sub := int(v>>shift) - histSub // the histSubBits bits below the top bit
	return histSub + (exp-histSubBits)*histSub + sub
}

// histUpper is the largest duration that falls in bucket i.
func histUpper(i int) time.Duration {
	if i < histSub {
		return time.Duration(i)
	}
	row, sub := (i-histSub)/histSub, (i-histSub)%histSub
	shift := row // exp - histSubBits
	lo := uint64(histSub+sub) << shift
	hi := lo + (uint64(1) << shift) - 1
	if hi > math.MaxInt64 {
		hi = math.MaxInt64
	}
	return time.Duration(hi)
}

// add records one sample; negative durations count as zero.
func (h *latencyHist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
	h.counts[histIndex(d)]++
}

// merge adds o's samples to h.
func (h *latencyHist) merge(o *latencyHist) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

func (h *latencyHist) count() int64 { return h.n }

// mean is the exact average, 0 when empty.
func (h *latencyHist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the q-th quantile (0 < q <= 1) with the nearest-rank
// rule: the smallest recorded bucket holding at least ceil(q*n) samples,
// reported as that bucket's upper bound clamped to [min, max]. 0 when
// empty.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = max(1, min(rank, h.n))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(histUpper(i), h.min), h.max)
		}
	}
	return h.max
}
