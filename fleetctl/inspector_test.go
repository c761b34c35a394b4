package fleetctl

import (
	"context"
	"fmt"
	"io"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
)

// fakeJournalSize is how many entries a fake journal holds.
const fakeJournalSize = 20

// fakeInspector is a test machine's systemctl and journalctl: a status
// made of what its in-memory systemd says of the unit, and a journal of
// numbered entries.
type fakeInspector struct {
	machine string
	sd      *memsd.Systemd
}

func (f *fakeInspector) Status(ctx context.Context, name string) (string, error) {
	units, err := f.sd.Units(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range units {
		if u.Name == name {
			return fmt.Sprintf("● %s\n     Loaded: %s (/run/fleet/units/%s; linked-runtime)\n     Active: %s (%s)\n    Machine: %s\n",
				name, u.LoadState, name, u.ActiveState, u.SubState, f.machine), nil
		}
	}
	return "", fmt.Errorf("unit %s could not be found", name)
}

func (f *fakeInspector) Journal(ctx context.Context, name string, o api.JournalOptions, w io.Writer) error {
	for i := max(fakeJournalSize-o.Lines, 0) + 1; i <= fakeJournalSize; i++ {
		line := fmt.Sprintf("Jan 01 00:00:%02d %s %s[1]: entry %d\n", i, f.machine[:8], name, i)
		if o.Output == "cat" {
			line = fmt.Sprintf("entry %d\n", i)
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	if _, err := fmt.Fprintf(w, "Jan 01 00:01:00 %s %s[1]: following\n", f.machine[:8], name); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}
