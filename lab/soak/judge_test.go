package soak

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	const m = 1 << 20
	base := Sample{DBSize: 4 * m, Keys: 40, RSS: 60 * m, Goroutines: 120}
	cases := []struct {
		name        string
		middle, end Sample
		want        string // "" when it passes
	}{
		{"levels off", Sample{DBSize: 9 * m, Keys: 90, RSS: 80 * m, Goroutines: 180}, Sample{DBSize: 10 * m, Keys: 40, RSS: 82 * m, Goroutines: 125}, ""},
		{"keys left", Sample{DBSize: 9 * m, Keys: 90, RSS: 80 * m, Goroutines: 180}, Sample{DBSize: 10 * m, Keys: 41, RSS: 82 * m, Goroutines: 125}, "41 keys at the end, 40 at the start"},
		{"database grows", Sample{DBSize: 9 * m, Keys: 90, RSS: 80 * m}, Sample{DBSize: 15 * m, Keys: 40, RSS: 82 * m, Goroutines: 120}, "etcd's database keeps growing"},
		{"rss grows", Sample{DBSize: 9 * m, Keys: 90, RSS: 80 * m}, Sample{DBSize: 9 * m, Keys: 40, RSS: 120 * m, Goroutines: 120}, "fleetd's RSS keeps growing"},
		{"goroutines leak", Sample{DBSize: 9 * m, Keys: 90, RSS: 80 * m}, Sample{DBSize: 9 * m, Keys: 40, RSS: 80 * m, Goroutines: 141}, "141 goroutines at rest"},
		{"small noise", Sample{DBSize: 4 * m, Keys: 40, RSS: 60 * m}, Sample{DBSize: 4*m + m/2, Keys: 40, RSS: 70 * m, Goroutines: 139}, ""},
	}
	for _, tc := range cases {
		got := strings.Join(judge(base, tc.middle, tc.end), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: judge says %q, want %q", tc.name, got, tc.want)
		}
	}
}
