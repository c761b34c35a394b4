package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// getFrom GETs path from srv and returns the status and body.
func getFrom(t *testing.T, srvURL, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srvURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestListerAnswersAsTheBackend: a server that serves its listings from a
// registry.Listing answers every page, byte for byte, as one that reads
// the registry whole for each page, over units in every condition: moving
// between two machines, global on three, unscheduled, broken, templates
// with specifiers. Page tokens of one are taken by the other. The
// machines, read a page at a time from etcd by a MachinePager, are
// compared with those of a Backend that is none.
func TestListerAnswersAsTheBackend(t *testing.T) {
	f := newFixture(t, api.Options{})
	slow := f.backendServer()
	for i := range 12 {
		f.addMachine(fmt.Sprintf("m%d", i), fmt.Sprintf("10.0.0.%d", i), map[string]string{"n": fmt.Sprint(i)})
	}
	for _, id := range []string{"m1", "m10", "m11", "m7", "gone"} {
		if err := f.reg.SetMetadata(f.ctx, id, "role", "r-"+id); err != nil && id != "gone" {
			t.Fatal(err)
		}
	}
	f.putRaw("machines/m5", "\xff")
	var changes []registry.Change
	for i := range 40 {
		name := fmt.Sprintf("u%02d.service", i)
		body := fmt.Sprintf("[Unit]\nDescription=unit %d\n\n[Service]\nExecStart=/bin/true\n", i%5)
		if i%10 == 3 {
			body += "\n[X-Fleet]\nGlobal=true\n"
		}
		f.submit(name, body, unit.State(i%3))
		for m := range i % 4 {
			changes = append(changes, registry.Change{Placement: registry.Placement{Unit: name, Machine: fmt.Sprintf("m%d", m), Port: uint16(8000 + i)}})
			if i%2 == 0 {
				f.report(name, fmt.Sprintf("m%d", m), "loaded", []string{"active", "inactive"}[m%2], "running")
			}
		}
	}
	if _, err := f.reg.Commit(f.ctx, registry.Guard{}, changes); err != nil {
		t.Fatal(err)
	}
	f.submit("tmpl@.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=hostname=%i\n", unit.StateInactive)
	f.putRaw("job/broken.service", "{not json")
	f.putRaw("job/nobody.service", fmt.Sprintf(`{"hash":"%040d","desiredState":"loaded"}`, 7))
	f.report("gone.service", "m1", "loaded", "failed", "failed") // a state without a unit

	for _, listing := range []string{"/fleet/v1/machines", "/fleet/v1/units", "/fleet/v1/state", "/fleet/v1/state?machineID=m1", "/fleet/v1/state?unitName=u06.service", "/fleet/v1/state/u02.service"} {
		for _, size := range []int{1, 7, 100} {
			pages := 0
			fastURL, slowURL := f.srv.URL, slow.URL
			for token := ""; ; {
				pages++
				u, err := url.Parse(listing)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				q.Set("pageSize", fmt.Sprint(size))
				if token != "" {
					q.Set("nextPageToken", token)
				}
				u.RawQuery = q.Encode()
				fc, fb := getFrom(t, fastURL, u.String())
				sc, sb := getFrom(t, slowURL, u.String())
				if fc != http.StatusOK || fc != sc || fb != sb {
					t.Fatalf("%s, page %d:\nwith a Lister %d %s\nwithout       %d %s", u, pages, fc, fb, sc, sb)
				}
				var page struct{ NextPageToken string }
				decode(t, answer{body: []byte(fb)}, &page)
				if token = page.NextPageToken; token == "" {
					break
				}
				fastURL, slowURL = slowURL, fastURL // the tokens are the same
			}
			if size == 1 && pages < 2 {
				t.Errorf("%s: %d pages of one", listing, pages)
			}
		}
	}
	for _, name := range []string{"u03.service", "u06.service", "u07.service", "broken.service", "nobody.service", "tmpl@.service", "nope.service"} {
		fc, fb := getFrom(t, f.srv.URL, "/fleet/v1/units/"+url.PathEscape(name))
		sc, sb := getFrom(t, slow.URL, "/fleet/v1/units/"+url.PathEscape(name))
		if fc != sc || fb != sb {
			t.Errorf("GET %s:\nwith a Lister %d %s\nwithout       %d %s", name, fc, fb, sc, sb)
		}
	}
}
