package benchmarks

import (
	"runtime"
	"testing"
	"time"

	"github.com/fleetsim/fleet/sim"
)

// benchmarkFailover simulates one hour of a generated cluster in which 10%
// of the machines crash at 20 minutes, and reports simulated events per
// wall second, the ratio of simulated to wall time and the heap in use at
// the end. Building the world is not timed.
func benchmarkFailover(b *testing.B, machines, units int) {
	const until = time.Hour
	var events uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w, err := sim.New(sim.Config{Seed: 7})
		if err != nil {
			b.Fatal(err)
		}
		wl := sim.DefaultWorkload() // seed 7, 10% of the machines killed at 20m
		wl.Machines, wl.Units = machines, units
		if err := wl.Populate(w); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w.RunUntil(until)
		b.StopTimer()
		r := w.Result()
		if r.ViolationCount != 0 {
			b.Fatalf("%d violations, the first: %+v", r.ViolationCount, r.Violations[0])
		}
		events += r.Events
		if i == b.N-1 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		}
		b.StartTimer()
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(b.N)*until.Seconds()/secs, "sim-s/s")
}

// BenchmarkSimFailover1kMachines10kUnits is the quick one: a second or so.
func BenchmarkSimFailover1kMachines10kUnits(b *testing.B) { benchmarkFailover(b, 1000, 10000) }

// BenchmarkSimFailover10kMachines100kUnits is the scale target: 10,000
// machines, 100,000 units, one simulated hour.
func BenchmarkSimFailover10kMachines100kUnits(b *testing.B) { benchmarkFailover(b, 10000, 100000) }
