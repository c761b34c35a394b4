package api_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/fleetsim/fleet/api"
)

func machines(t *testing.T, f *fixture, query string) api.MachinePage {
	t.Helper()
	a := f.get("/fleet/v1/machines" + query)
	wantStatus(t, a, http.StatusOK)
	var page api.MachinePage
	decode(t, a, &page)
	return page
}

func TestMachinesList(t *testing.T) {
	f := newFixture(t, api.Options{})
	if got := machines(t, f, "").Machines; got == nil || len(got) != 0 {
		t.Errorf("no machines: %#v, want an empty list", got)
	}
	f.addMachine("m2", "10.0.0.2", nil)
	f.addMachine("m1", "10.0.0.1", map[string]string{"region": "eu"})
	if err := f.reg.SetMetadata(f.ctx, "m1", "disk", "ssd"); err != nil {
		t.Fatal(err)
	}
	want := []api.Machine{
		{ID: "m1", PrimaryIP: "10.0.0.1", Metadata: map[string]string{"region": "eu", "disk": "ssd"}},
		{ID: "m2", PrimaryIP: "10.0.0.2", Metadata: map[string]string{}},
	}
	if got := machines(t, f, "?alt=json").Machines; !reflect.DeepEqual(got, want) {
		t.Errorf("machines = %+v, want %+v", got, want)
	}
	first := machines(t, f, "?pageSize=1")
	if len(first.Machines) != 1 || first.Machines[0].ID != "m1" || first.NextPageToken == "" {
		t.Fatalf("first page %+v", first)
	}
	second := machines(t, f, "?pageSize=1&nextPageToken="+first.NextPageToken)
	if len(second.Machines) != 1 || second.Machines[0].ID != "m2" || second.NextPageToken != "" {
		t.Fatalf("second page %+v", second)
	}
}

func TestPatchMachines(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.addMachine("m1", "10.0.0.1", map[string]string{"region": "eu"})
	patch := func(ct, body string) answer { return f.do(http.MethodPatch, "/fleet/v1/machines", ct, body) }
	a := patch("application/json", `[{"op":"add","path":"/m1/metadata/disk","value":"ssd"},{"op":"replace","path":"/m1/metadata/region","value":"us"}]`)
	wantStatus(t, a, http.StatusNoContent)
	want := map[string]string{"region": "us", "disk": "ssd"}
	if got := machines(t, f, "").Machines[0].Metadata; !reflect.DeepEqual(got, want) {
		t.Fatalf("metadata %v, want %v", got, want)
	}
	a = patch("application/json-patch+json", `[{"op":"remove","path":"/m1/metadata/disk"}]`)
	wantStatus(t, a, http.StatusNoContent)
	// Removing a key of a machine gone is cleanup, not an error.
	wantStatus(t, patch("application/json", `[{"op":"remove","path":"/gone/metadata/disk"}]`), http.StatusNoContent)
	wantStatus(t, patch("application/json", `[]`), http.StatusNoContent)
	want = map[string]string{"region": "us"}
	if got := machines(t, f, "").Machines[0].Metadata; !reflect.DeepEqual(got, want) {
		t.Fatalf("metadata %v, want %v", got, want)
	}
}

func TestPatchMachinesRefusesBadOperations(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.addMachine("m1", "10.0.0.1", nil)
	good := `{"op":"add","path":"/m1/metadata/disk","value":"ssd"}`
	tests := []struct {
		name, ct, body string
		code           int
		says           []string
	}{
		{"move", "", `[{"op":"move","path":"/m1/metadata/a"}]`, 400, []string{"move", "add, replace or remove"}},
		{"test", "", `[{"op":"test","path":"/m1/metadata/a","value":"x"}]`, 400, []string{"test"}},
		{"from", "", `[{"op":"copy","from":"/m1/metadata/a","path":"/m1/metadata/b"}]`, 400, []string{"from"}},
		{"not metadata", "", `[{"op":"add","path":"/m1/meta/disk","value":"x"}]`, 400, []string{"/<machineID>/metadata/<key>"}},
		{"deep path", "", `[{"op":"add","path":"/m1/metadata/a/b","value":"x"}]`, 400, []string{"path"}},
		{"relative path", "", `[{"op":"add","path":"m1/metadata/a","value":"x"}]`, 400, []string{"path"}},
		{"no machine", "", `[{"op":"add","path":"//metadata/a","value":"x"}]`, 400, []string{"machine"}},
		{"bad key", "", `[{"op":"add","path":"/m1/metadata/a=b","value":"x"}]`, 400, []string{"a=b"}},
		{"escaped key", "", `[{"op":"add","path":"/m1/metadata/a~1b","value":"x"}]`, 400, []string{"key"}},
		{"add without value", "", `[{"op":"add","path":"/m1/metadata/a"}]`, 400, []string{"value"}},
		{"replace with empty value", "", `[{"op":"replace","path":"/m1/metadata/a","value":""}]`, 400, []string{"value"}},
		{"remove with value", "", `[{"op":"remove","path":"/m1/metadata/a","value":"x"}]`, 400, []string{"no value"}},
		{"control character", "", `[{"op":"add","path":"/m1/metadata/a","value":"x\ny"}]`, 400, []string{"control"}},
		{"number value", "", `[{"op":"add","path":"/m1/metadata/a","value":3}]`, 400, []string{"invalid JSON"}},
		{"unknown machine", "", `[{"op":"add","path":"/m9/metadata/a","value":"x"}]`, 400, []string{"m9"}},
		{"one bad of two", "", `[` + good + `,{"op":"add","path":"/m1/metadata/b"}]`, 400, []string{"operation 1"}},
		{"good then unknown machine", "", `[` + good + `,{"op":"add","path":"/m9/metadata/b","value":"x"}]`, 400, []string{"operation 1", "m9"}},
		{"object", "", good, 400, []string{"array"}},
		{"text/plain", "text/plain", `[` + good + `]`, 415, []string{"application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			ct := tt.ct
			if ct == "" {
				ct = "application/json"
			}
			wantError(t, f.do(http.MethodPatch, "/fleet/v1/machines", ct, tt.body), tt.code, tt.says...)
			f.unchanged(t, before)
		})
	}
}
