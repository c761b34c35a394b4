package shortdur

import (
	"testing"
	"time"
)

func TestFormatReadsBack(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Minute:        "20m",
		time.Hour:               "1h",
		90 * time.Minute:        "1h30m",
		2500 * time.Millisecond: "2.5s",
		time.Hour + time.Second: "1h0m1s",
		0:                       "0s",
	} {
		got := Format(d)
		if got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("%q reads back as %v, %v", got, back, err)
		}
	}
}
