// Package shortdur writes durations the short way, as people write them
// in configuration and scenario files.
package shortdur

import (
	"strings"
	"time"
)

// Format writes d so that time.ParseDuration reads it back, without its
// zero tails: 20m, 1h, 1h30m, 2.5s (not 20m0s or 1h0m0s).
func Format(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
