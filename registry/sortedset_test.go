package registry

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedSetMatchesASortedMap: after any run of adds and removes, read
// at any points, the set holds the keys a map would, in order.
func TestSortedSetMatchesASortedMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		s := newSortedSet()
		want := map[string]bool{}
		for step := range 400 {
			k := fmt.Sprintf("k%03d", rng.IntN(120))
			if want[k] {
				s.remove(k)
				delete(want, k)
			} else {
				s.add(k)
				want[k] = true
			}
			if rng.IntN(10) == 0 || step == 399 {
				var keys []string
				for k := range want {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if got := s.sorted(); !slices.Equal(got, keys) {
					t.Fatalf("round %d step %d: %v, want %v", round, step, got, keys)
				}
				if len(keys) > 0 {
					i := rng.IntN(len(keys))
					if j := after(keys, keys[i]); j != i+1 {
						t.Fatalf("after(%s) = %d, want %d", keys[i], j, i+1)
					}
				}
			}
		}
	}
}
