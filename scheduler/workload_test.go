package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// workload builds a cluster of machines machines and units units, none
// placed, from a fixed seed: 40% plain units, 20% with MachineMetadata
// (plain and operators), 20% template instances spread by Conflicts in
// groups of 50, 20% asking for a port from a range of 100.
func workload(tb testing.TB, machines, units int, seed uint64) *Snapshot {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	regions := []string{"eu", "us", "ap"}
	snap := &Snapshot{Machines: make([]Machine, machines), Units: make([]Unit, 0, units)}
	for i := range snap.Machines {
		snap.Machines[i] = Machine{
			ID:    fmt.Sprintf("%016x%016x", rng.Uint64(), uint64(i)),
			Alive: true,
			Metadata: map[string]string{
				"region": regions[rng.IntN(len(regions))],
				"disk":   []string{"ssd", "hdd"}[rng.IntN(2)],
				"ram":    fmt.Sprint(1024 << rng.IntN(4)),
			},
		}
	}
	reqs := workloadRequirements(tb)
	for i := 0; i < units; i++ {
		var name string
		var opts []unit.Option
		switch k := i % 10; {
		case k < 4:
			name = fmt.Sprintf("plain-%d.service", i)
		case k < 6:
			name = fmt.Sprintf("meta-%d.service", i)
			opts = reqs[i%len(reqs)]
		case k < 8:
			name = fmt.Sprintf("spread-%d@%d.service", i/500, i)
			opts = []unit.Option{{Section: unit.FleetSection, Name: "Conflicts", Value: "%p@*"}}
		default:
			name = fmt.Sprintf("port-%d.service", i)
			opts = []unit.Option{{Section: unit.FleetSection, Name: "Ports", Value: "20000-20099"}}
		}
		req, _, err := unit.ParseRequirements(name, opts)
		if err != nil {
			tb.Fatal(err)
		}
		snap.Units = append(snap.Units, Unit{Name: name, Desired: unit.StateLaunched, Req: req})
	}
	return snap
}

func workloadRequirements(tb testing.TB) [][]unit.Option {
	var out [][]unit.Option
	for _, v := range []string{"region=eu", "region=us", `"region=eu" "region=ap"`, "ram>=4096", "disk!=hdd"} {
		out = append(out, []unit.Option{{Section: unit.FleetSection, Name: "MachineMetadata", Value: v}})
	}
	return out
}

// benchmarkPlace measures placing every unit of a fresh workload in one
// pass and reports placements per second.
func benchmarkPlace(b *testing.B, machines, units int, plan func(*Snapshot) int) {
	snap := workload(b, machines, units, 7)
	b.ReportAllocs()
	b.ResetTimer()
	placed := 0
	for i := 0; i < b.N; i++ {
		placed = plan(snap)
	}
	b.ReportMetric(float64(placed)*float64(b.N)/b.Elapsed().Seconds(), "placements/s")
	b.ReportMetric(0, "ns/op")
}

func fastPlaced(b *testing.B) func(*Snapshot) int {
	return func(snap *Snapshot) int {
		plan, err := New().Plan(snap)
		if err != nil {
			b.Fatal(err)
		}
		return len(plan.Actions)
	}
}

func referencePlaced(snap *Snapshot) int {
	final, _ := referencePlan(snap)
	return len(final)
}

// The fast scheduler at the sizes it is built for.
func BenchmarkPlan1kMachines100kUnits(b *testing.B)  { benchmarkPlace(b, 1000, 100000, fastPlaced(b)) }
func BenchmarkPlan10kMachines100kUnits(b *testing.B) { benchmarkPlace(b, 10000, 100000, fastPlaced(b)) }

// The fast scheduler and the naive reference on the same, smaller
// workloads: the reference rescans every placement for every check, which
// is what makes it obviously right and far too slow for 100,000 units.
func BenchmarkPlan1kMachines1kUnits(b *testing.B) { benchmarkPlace(b, 1000, 1000, fastPlaced(b)) }
func BenchmarkReference1kMachines1kUnits(b *testing.B) {
	benchmarkPlace(b, 1000, 1000, referencePlaced)
}
func BenchmarkPlan10kMachines200Units(b *testing.B) { benchmarkPlace(b, 10000, 200, fastPlaced(b)) }
func BenchmarkReference10kMachines200Units(b *testing.B) {
	benchmarkPlace(b, 10000, 200, referencePlaced)
}

// BenchmarkReplanAfterLoss measures the pass a leader makes after 10% of
// the machines die, every unit having been placed: with a Scheduler that
// planned the same units before (warm) and with a new one (cold).
func BenchmarkReplanAfterLoss(b *testing.B) {
	for _, warm := range []bool{true, false} {
		name := "cold"
		if warm {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			snap := workload(b, 10000, 100000, 7)
			s := New()
			first, err := s.Plan(snap)
			if err != nil {
				b.Fatal(err)
			}
			snap.Placements = Apply(nil, first)
			for i := range snap.Machines {
				if i%10 == 0 {
					snap.Machines[i].Alive = false
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			moved := 0
			for i := 0; i < b.N; i++ {
				if !warm {
					s = New()
				}
				plan, err := s.Plan(snap)
				if err != nil {
					b.Fatal(err)
				}
				moved = len(plan.Actions)
			}
			b.ReportMetric(float64(moved), "moves")
		})
	}
}
