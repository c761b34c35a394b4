package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// newRand returns the generator of one subsystem: the run's seed mixed
// with the subsystem's name, so that adding draws to one subsystem does
// not shift the others.
func newRand(seed uint64, subsystem string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(subsystem))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// jitter returns a uniform duration in [0, max].
func jitter(r *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(max) + 1))
}

// exponential draws a waiting time for an event of the given rate per hour.
func exponential(r *rand.Rand, perHour float64) time.Duration {
	if perHour <= 0 {
		return math.MaxInt64
	}
	return time.Duration(r.ExpFloat64() / perHour * float64(time.Hour))
}
