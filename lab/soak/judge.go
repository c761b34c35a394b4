package soak

import "fmt"

// Floors below which a change is noise, not growth.
const (
	dbFloor         = 1 << 20  // etcd allocates its file in steps
	rssFloor        = 16 << 20 // the Go heap breathes
	goroutineFloor  = 20       // the churn's own requests, watches, timers
	keyCountAllowed = 0        // every key the churn made is gone at the end
)

// judge returns what kept growing between the samples at the start, the
// middle and the end; none means the soak passed. The key count must be
// back to its baseline once the churn is cleaned up; the database size
// and the RSS must level off: in the second half they may grow by no
// more than half what they grew in the first, beyond their floors; the
// goroutines, sampled at rest at the start and the end, must be back
// near their count at the start.
func judge(start, middle, end Sample) []string {
	var out []string
	if end.Keys > start.Keys+keyCountAllowed {
		out = append(out, fmt.Sprintf("etcd holds %d keys at the end, %d at the start", end.Keys, start.Keys))
	}
	levels := func(what string, s, m, e, floor int64, unit func(int64) string) {
		first, second := m-s, e-m
		if second > floor && second > first/2 {
			out = append(out, fmt.Sprintf("%s keeps growing: %s, %s, %s", what, unit(s), unit(m), unit(e)))
		}
	}
	inMiB := func(n int64) string { return fmt.Sprintf("%.2f MiB", mib(n)) }
	levels("etcd's database", start.DBSize, middle.DBSize, end.DBSize, dbFloor, inMiB)
	levels("fleetd's RSS", start.RSS, middle.RSS, end.RSS, rssFloor, inMiB)
	if end.Goroutines > start.Goroutines+goroutineFloor {
		out = append(out, fmt.Sprintf("fleetd runs %d goroutines at rest at the end, %d at the start", end.Goroutines, start.Goroutines))
	}
	return out
}
