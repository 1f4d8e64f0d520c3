package program

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of the job store's bounds (JobLimits).
const (
	DefaultMaxJobs        = 1000
	DefaultMaxOutputBytes = 16 << 30
	DefaultRetention      = 7 * 24 * time.Hour
	DefaultMaxQueued      = 100 // per method
)

// JobLimits bound the job store. A zero field takes its default. The
// methods file sets them in its [jobs] table (max_jobs, max_output,
// retention); Config.Jobs overrides the file field by field.
type JobLimits struct {
	// MaxJobs is how many jobs (any state) are stored at once. Default 1000.
	MaxJobs int
	// MaxOutputBytes bounds the output the stored jobs may hold: a
	// finished job counts its output's size, a running or queued one its
	// method's output_cap, which it may still write. Default 16 GiB.
	MaxOutputBytes int64
	// Retention is how long a finished job is kept. Default 7 days.
	Retention time.Duration
}

func (l JobLimits) withDefaults() JobLimits {
	if l.MaxJobs <= 0 {
		l.MaxJobs = DefaultMaxJobs
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.Retention <= 0 {
		l.Retention = DefaultRetention
	}
	return l
}

// over returns l with the fields o sets.
func (l JobLimits) over(o JobLimits) JobLimits {
	if o.MaxJobs > 0 {
		l.MaxJobs = o.MaxJobs
	}
	if o.MaxOutputBytes > 0 {
		l.MaxOutputBytes = o.MaxOutputBytes
	}
	if o.Retention > 0 {
		l.Retention = o.Retention
	}
	return l
}

// finishedOldestFirst lists the jobs that have ended, the longest ended
// first. s.mu is held.
func (s *jobStore) finishedOldestFirst() []*job {
	type entry struct {
		j   *job
		end time.Time
	}
	var fin []entry
	for _, j := range s.jobs {
		m := j.snapshot()
		if !ended(m.State) {
			continue
		}
		end := m.Ended
		if end.IsZero() {
			end = m.Created
		}
		fin = append(fin, entry{j, end})
	}
	slices.SortFunc(fin, func(a, b entry) int {
		if c := a.end.Compare(b.end); c != 0 {
			return c
		}
		return compareStrings(a.j.id(), b.j.id())
	})
	out := make([]*job, len(fin))
	for i, e := range fin {
		out[i] = e.j
	}
	return out
}

// remove deletes a finished job and its directory. s.mu is held.
func (s *jobStore) remove(j *job) {
	delete(s.jobs, j.id())
	if j.key != "" && s.keys[j.key] == j {
		delete(s.keys, j.key)
	}
	if err := os.RemoveAll(j.dir); err != nil {
		s.log.Warn("job removal", "dir", j.dir, "err", err)
	}
	s.log.Info("job removed", "id", j.id())
}

// expire removes the jobs that ended longer than the retention ago.
// s.mu is held.
func (s *jobStore) expire(now time.Time) {
	for _, j := range s.finishedOldestFirst() {
		m := j.snapshot()
		end := m.Ended
		if end.IsZero() {
			end = m.Created
		}
		if now.Sub(end) < s.limits.Retention {
			return
		}
		s.remove(j)
	}
}

// usage is the output a job holds or may still write. s.mu is held.
func (s *jobStore) usage(j *job) int64 {
	m := j.snapshot()
	if !ended(m.State) {
		if meth := s.methods[j.method]; meth != nil {
			return max(meth.OutputCap, m.OutputBytes)
		}
	}
	return m.OutputBytes
}

// makeRoom makes room for one more job of m, removing finished jobs,
// oldest first, as the bounds need; when that is not enough the start
// is refused with a fault. s.mu is held.
func (s *jobStore) makeRoom(m *Method) error {
	s.expire(time.Now())
	fin := s.finishedOldestFirst()
	for len(s.jobs) >= s.limits.MaxJobs && len(fin) > 0 {
		s.remove(fin[0])
		fin = fin[1:]
	}
	if len(s.jobs) >= s.limits.MaxJobs {
		return faultf(codeApplication, "%s: the job store is full: %d jobs queued or running (max_jobs = %d); wait for some to end or cancel some (jobs.list)", m.Name, len(s.jobs), s.limits.MaxJobs)
	}
	var used int64
	for _, j := range s.jobs {
		used += s.usage(j)
	}
	for used+m.OutputCap > s.limits.MaxOutputBytes && len(fin) > 0 {
		used -= s.usage(fin[0])
		s.remove(fin[0])
		fin = fin[1:]
	}
	if used+m.OutputCap > s.limits.MaxOutputBytes {
		return faultf(codeApplication, "%s: the job store's output quota is used up: the jobs queued or running may write %s and this one %s (output_cap), over max_output = %s; wait for some to end or cancel some (jobs.list)",
			m.Name, formatBytes(used), formatBytes(m.OutputCap), formatBytes(s.limits.MaxOutputBytes))
	}
	return nil
}

// formatBytes writes n as the methods file would: 4MiB, 1000B.
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.m && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// parseRetention reads a duration like "168h", or whole days as "7d".
func parseRetention(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if err != nil || n < 1 || n > 100*365 {
			return 0, fmt.Errorf("%q: want a duration like \"7d\" or \"36h\"", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a duration like \"7d\" or \"36h\"", s)
	}
	return d, nil
}

// jobsDecl is the methods file's [jobs] table.
type jobsDecl struct {
	MaxJobs   *int64  `toml:"max_jobs"`
	MaxOutput any     `toml:"max_output"`
	Retention *string `toml:"retention"`
}

func buildJobLimits(d *jobsDecl, loc *locator) (JobLimits, *ConfigError) {
	var l JobLimits
	if d == nil {
		return l.withDefaults(), nil
	}
	if d.MaxJobs != nil {
		if *d.MaxJobs < 1 || *d.MaxJobs > 1<<24 {
			return l, &ConfigError{Line: loc.anyKey("max_jobs"), Msg: fmt.Sprintf("[jobs] max_jobs %d: want 1 or more", *d.MaxJobs)}
		}
		l.MaxJobs = int(*d.MaxJobs)
	}
	if d.MaxOutput != nil {
		n, err := parseSize(d.MaxOutput)
		if err != nil {
			return l, &ConfigError{Line: loc.anyKey("max_output"), Msg: "[jobs] max_output: " + err.Error()}
		}
		l.MaxOutputBytes = n
	}
	if d.Retention != nil {
		r, err := parseRetention(*d.Retention)
		if err != nil {
			return l, &ConfigError{Line: loc.anyKey("retention"), Msg: "[jobs] retention " + err.Error()}
		}
		l.Retention = r
	}
	return l.withDefaults(), nil
}
