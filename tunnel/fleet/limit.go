package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limit is a number of hosts or a percentage, as Ansible's serial and
// max_fail_percentage and the CLI's --batch and --max-fail take them. The
// zero Limit means no limit.
type Limit struct {
	N       int     // hosts; used when Percent is 0
	Percent float64 // 0 < Percent <= 100
}

// ParseLimit reads "N" (N >= 1) or "P%" (0 < P <= 100).
func ParseLimit(s string) (Limit, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 100 {
			return Limit{}, fmt.Errorf("fleet: limit %q: want a percentage above 0 and at most 100", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return Limit{}, fmt.Errorf("fleet: limit %q: want a number of hosts (at least 1) or a percentage such as 25%%", s)
	}
	return Limit{N: n}, nil
}

// IsZero reports whether l sets no limit.
func (l Limit) IsZero() bool { return l.N == 0 && l.Percent == 0 }

func (l Limit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.N)
}

// of is the limit applied to total hosts, rounded up, at least 1.
func (l Limit) of(total int) int {
	if l.Percent > 0 {
		return max(1, int(math.Ceil(l.Percent*float64(total)/100)))
	}
	return l.N
}

// reached reports whether failed hosts out of done reach the limit: N
// failures, or P% of the hosts done.
func (l Limit) reached(failed, done int) bool {
	switch {
	case l.IsZero() || failed == 0:
		return false
	case l.Percent > 0:
		return float64(failed)*100 >= l.Percent*float64(done)
	}
	return failed >= l.N
}
