package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted samples.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func TestLatencyHistQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		samples []time.Duration
	}{
		{"one", []time.Duration{1234567}},
		{"tiny exact", []time.Duration{0, 1, 2, 3, 63, 64, 65}},
		{"bimodal", func() []time.Duration {
			var s []time.Duration
			for i := range 990 {
				s = append(s, time.Millisecond+time.Duration(i)*time.Microsecond)
			}
			for range 10 {
				s = append(s, 44*time.Millisecond)
			}
			return s
		}()},
		{"log-uniform 10k", func() []time.Duration {
			s := make([]time.Duration, 10000)
			for i := range s {
				s[i] = time.Duration(math.Exp(rng.Float64() * math.Log(float64(10*time.Second))))
			}
			return s
		}()},
		{"huge", []time.Duration{math.MaxInt64, math.MaxInt64 - 1, time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h latencyHist
			// Split over two histograms and merge, as runLoad's workers do.
			var other latencyHist
			for i, d := range tt.samples {
				if i%2 == 0 {
					h.add(d)
				} else {
					other.add(d)
				}
			}
			h.merge(&other)
			sorted := slices.Clone(tt.samples)
			slices.Sort(sorted)
			if got, want := h.count(), int64(len(sorted)); got != want {
				t.Errorf("count() = %d, want %d", got, want)
			}
			if h.min != sorted[0] || h.max != sorted[len(sorted)-1] {
				t.Errorf("min, max = %v, %v, want %v, %v", h.min, h.max, sorted[0], sorted[len(sorted)-1])
			}
			for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.quantile(q), exactQuantile(sorted, q)
				// A bucket is 1/64 of its power of two wide: the reported
				// upper bound is at most that far above the true sample.
				if got < want || float64(got-want) > float64(want)/histSub+1 {
					t.Errorf("quantile(%v) = %v, want %v (within 1/%d above)", q, got, want, histSub)
				}
			}
		})
	}
}

func TestLatencyHistEmpty(t *testing.T) {
	var h latencyHist
	if got := h.quantile(0.99); got != 0 {
		t.Errorf("empty quantile(0.99) = %v, want 0", got)
	}
	if got := h.mean(); got != 0 {
		t.Errorf("empty mean() = %v, want 0", got)
	}
	h.merge(&latencyHist{})
	if h.count() != 0 {
		t.Errorf("count after merging empty = %d, want 0", h.count())
	}
}

func TestHistIndexMonotonic(t *testing.T) {
	prev := -1
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<20 + 1, math.MaxInt64} {
		i := histIndex(d)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d after %d (buckets %d)", d, i, prev, histBuckets)
		}
		if up := histUpper(i); up < d {
			t.Errorf("histUpper(histIndex(%d)) = %d, below the value", d, up)
		}
		prev = i
	}
}
