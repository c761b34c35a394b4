package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

func TestPutCreatesUnits(t *testing.T) {
	f := newFixture(t, api.Options{})
	opts := optionsJSON(t, helloBody)
	tests := []struct {
		path, name, body string
		desired          unit.State
	}{
		{"hello.service", "hello.service", `{"name":"hello.service","options":` + opts + `,"desiredState":"launched"}`, unit.StateLaunched},
		{"quiet.service", "quiet.service", `{"options":` + opts + `}`, unit.StateInactive},
		{"web%401.service", "web@1.service", `{"name":"web@1.service","options":` + opts + `,"desiredState":"loaded"}`, unit.StateLoaded},
		{"web@2.service", "web@2.service", `{"name":"web@2.service","options":` + opts + `,"desiredState":"inactive"}`, unit.StateInactive},
		{"web@.service", "web@.service", `{"name":"web@.service","options":` + opts + `,"desiredState":"inactive"}`, unit.StateInactive},
		{"read-only-empty.service", "read-only-empty.service", `{"options":` + opts + `,"currentState":"","machineID":""}`, unit.StateInactive},
	}
	for _, tt := range tests {
		a := f.put(tt.path, tt.body)
		wantStatus(t, a, http.StatusCreated)
		if loc := a.Header.Get("Location"); !strings.HasPrefix(loc, "/fleet/v1/units/") {
			t.Errorf("%s: Location %q", tt.name, loc)
		}
		j, err := f.reg.Job(f.ctx, tt.name)
		if err != nil || j.Desired != tt.desired {
			t.Fatalf("%s: job %+v, %v; want desired %v", tt.name, j, err, tt.desired)
		}
		body, err := f.reg.File(f.ctx, j.Hash)
		if err != nil || body.Serialize() != helloBody {
			t.Errorf("%s: stored body %v, %v", tt.name, body, err)
		}
	}
}

func TestPutChangesTheDesiredStateOnly(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("hello.service", helloBody, unit.StateInactive)
	opts := optionsJSON(t, helloBody)
	steps := []struct{ body, want string }{
		{`{"desiredState":"loaded"}`, "loaded"},
		{`{"name":"hello.service","desiredState":"launched"}`, "launched"},
		{`{"name":"hello.service","desiredState":"launched"}`, "launched"}, // no change is fine
		{`{"name":"hello.service","options":` + opts + `,"desiredState":"inactive"}`, "inactive"},
	}
	for _, s := range steps {
		a := f.put("hello.service", s.body)
		wantStatus(t, a, http.StatusNoContent)
		j, err := f.reg.Job(f.ctx, "hello.service")
		if err != nil || j.Desired.String() != s.want {
			t.Fatalf("after %s: %+v, %v", s.body, j, err)
		}
	}
}

// TestPutRefusesBadRequests checks each refusal's status and message,
// and that the registry is left as it was.
func TestPutRefusesBadRequests(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("exists.service", helloBody, unit.StateInactive)
	f.submit("tpl@.service", helloBody, unit.StateInactive)
	for _, tt := range badPuts(t) {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			ct := tt.ct
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			a := f.do(http.MethodPut, "/fleet/v1/units/"+tt.path, ct, tt.body)
			wantError(t, a, tt.code, tt.says...)
			f.unchanged(t, before)
		})
	}
}

// badPut is a PUT /units/<path> the server refuses with code, saying
// each of says. ct "" sends application/json, "-" no Content-Type.
type badPut struct {
	name, path, ct, body string
	code                 int
	says                 []string
}

// badPuts are refusals over a registry holding exists.service and the
// template tpl@.service.
func badPuts(t *testing.T) []badPut {
	t.Helper()
	opts := optionsJSON(t, helloBody)
	other := optionsJSON(t, "[Service]\nExecStart=/bin/true\n")
	big := `{"options":[{"section":"Unit","name":"Description","value":"` + strings.Repeat("x", 2<<20) + `"}]}`
	return []badPut{
		{"new without options", "new.service", "", `{"desiredState":"launched"}`, 409, []string{"new.service", "no options"}},
		{"new with empty options", "new.service", "", `{"options":[],"desiredState":"launched"}`, 409, []string{"no options"}},
		{"empty section", "new.service", "", `{"options":[{"section":"","name":"A","value":"b"}]}`, 400, []string{"option 0", "section: empty"}},
		{"bad [X-Fleet]", "new.service", "", `{"options":[{"section":"X-Fleet","name":"Global","value":"maybe"}]}`, 400, []string{"Global", "maybe"}},
		{"MachineID with Conflicts", "new.service", "", `{"options":[{"section":"X-Fleet","name":"MachineID","value":"abc"},{"section":"X-Fleet","name":"Conflicts","value":"x*"}]}`, 400, []string{"MachineID", "Conflicts"}},
		{"name without suffix", "new", "", `{"options":` + opts + `}`, 400, []string{"must end in"}},
		{"bad name char", "new%21.service", "", `{"options":` + opts + `}`, 400, []string{"'!'"}},
		{"name differs", "new.service", "", `{"name":"other.service","options":` + opts + `}`, 400, []string{"other.service", "new.service", "differs"}},
		{"existing without desiredState", "exists.service", "", `{"name":"exists.service"}`, 409, []string{"exists.service", "desiredState"}},
		{"existing, same options, no desiredState", "exists.service", "", `{"options":` + opts + `}`, 409, []string{"desiredState"}},
		{"existing with other content", "exists.service", "", `{"options":` + other + `,"desiredState":"launched"}`, 409, []string{"other content"}},
		{"launch a template", "tpl@.service", "", `{"desiredState":"launched"}`, 400, []string{"template", "tpl@1.service"}},
		{"load a new template", "new@.service", "", `{"options":` + opts + `,"desiredState":"loaded"}`, 400, []string{"template"}},
		{"unknown desiredState", "exists.service", "", `{"desiredState":"running"}`, 400, []string{"running"}},
		{"currentState set", "exists.service", "", `{"desiredState":"launched","currentState":"launched"}`, 400, []string{"currentState"}},
		{"machineID set", "new.service", "", `{"options":` + opts + `,"machineID":"m1"}`, 400, []string{"machineID"}},
		{"unknown field", "new.service", "", `{"options":` + opts + `,"desired":"launched"}`, 400, []string{"unknown field", "desired"}},
		{"two values", "new.service", "", `{"options":` + opts + `} {}`, 400, []string{"more than one"}},
		{"trailing garbage", "new.service", "", `{"options":` + opts + `}]`, 400, []string{"more than one"}},
		{"null", "new.service", "", `null`, 400, []string{"object"}},
		{"array", "new.service", "", `[]`, 400, []string{"object"}},
		{"empty body", "new.service", "", ``, 400, []string{"empty"}},
		{"broken JSON", "new.service", "", `{"options":`, 400, []string{"invalid JSON"}},
		{"wrong type", "new.service", "", `{"options":"x"}`, 400, []string{"invalid JSON"}},
		{"text/plain", "new.service", "text/plain", `{"options":` + opts + `}`, 415, []string{"Content-Type", "application/json"}},
		{"no Content-Type", "new.service", "-", `{"options":` + opts + `}`, 415, []string{"Content-Type"}},
		{"latin1", "new.service", "application/json; charset=latin1", `{"options":` + opts + `}`, 415, []string{"latin1"}},
		{"2 MiB body", "new.service", "", big, 413, []string{"larger than"}},
	}
}

// canonicalPuts are refusals of input that systemd would read back
// otherwise, or that the machine or the store cannot take.
func canonicalPuts(t *testing.T) []badPut {
	t.Helper()
	opts := optionsJSON(t, helloBody)
	// one is a body of one option, '<' sent as it is: 300 KB of it is a
	// small request, but six times that as the registry stores it.
	one := func(section, name, value string) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(api.Unit{Options: []unit.Option{{Section: section, Name: name, Value: value}}}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	long := strings.Repeat("n", 242) + ".service"
	return []badPut{
		{"reserved fleetd.service", "fleetd.service", "", `{"options":` + opts + `}`, 400, []string{"reserved", "fleetd.service", "fleetd's own unit", "cannot lose"}},
		{"reserved, state only", "dbus.socket", "", `{"desiredState":"launched"}`, 400, []string{"reserved", "D-Bus"}},
		{"reserved systemd-*", "systemd-journald.service", "", `{"options":` + opts + `}`, 400, []string{"systemd-", "systemd's own units"}},
		{"reserved sshd instance", "sshd@1.service", "", `{"options":` + opts + `}`, 400, []string{"sshd"}},
		{"250-byte name", long, "", `{"options":` + opts + `}`, 400, []string{"250 bytes long", "limit of 239"}},
		{"newline in a value", "new.service", "", one("Service", "ExecStart", "x\n[Service]\nExecStartPre=/bin/touch FILE"), 400, []string{`option 0 ("Service"/"ExecStart")`, "value: control character U+000A"}},
		{"carriage return in a value", "new.service", "", one("Service", "ExecStart", "/bin/true\r"), 400, []string{"value: control character U+000D"}},
		{"NUL in a value", "new.service", "", one("Service", "ExecStart", "/bin/true\u0000"), 400, []string{"value: control character U+0000"}},
		{"escape in a value", "new.service", "", one("Service", "ExecStart", "\u001b[31m"), 400, []string{"value: control character U+001B"}},
		{"newline in a name", "new.service", "", one("Service", "Exec\nStart", "/bin/true"), 400, []string{"name: control character U+000A"}},
		{"newline in a section", "new.service", "", one("Service\n", "ExecStart", "/bin/true"), 400, []string{"section: control character U+000A"}},
		{"trailing space in a value", "new.service", "", one("Service", "ExecStart", "/bin/true "), 400, []string{"value: starts or ends with a blank"}},
		{"leading tab in a value", "new.service", "", one("Service", "ExecStart", "\t/bin/true"), 400, []string{"value: starts or ends with a blank"}},
		{"space in a name", "new.service", "", one("Service", "Exec Start", "/bin/true"), 400, []string{"name: ' ' at byte 4"}},
		{"trailing space in a section", "new.service", "", one("Service ", "ExecStart", "/bin/true"), 400, []string{"section: starts or ends with a blank"}},
		{"name starting with '#'", "new.service", "", one("Service", "#ExecStart", "/bin/true"), 400, []string{"name: starts with '#'"}},
		{"section seen again", "new.service", "", `{"options":[{"section":"Unit","name":"A","value":"1"},{"section":"Service","name":"B","value":"2"},{"section":"Unit","name":"C","value":"3"}]}`, 400, []string{"option 2", `section "Unit" appears again`}},
		{"300 KB of '<'", "new.service", "", one("Service", "ExecStart", strings.Repeat("<", 300<<10)), 413, []string{"1843", "bytes as stored", "limit of 1048576"}},
	}
}

// TestPutRefusesNonCanonicalInput checks each refusal's status and
// message, and that the registry is left as it was.
func TestPutRefusesNonCanonicalInput(t *testing.T) {
	f := newFixture(t, api.Options{})
	for _, tt := range canonicalPuts(t) {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			a := f.do(http.MethodPut, "/fleet/v1/units/"+tt.path, "application/json", tt.body)
			wantError(t, a, tt.code, tt.says...)
			f.unchanged(t, before)
		})
	}
}

// A unit with a 2.1 KB ExecStart line, which systemd runs, is accepted,
// stored as sent, and parses back (as the agent's reader parses it) to
// the same options and hash; so is a tab inside a value, and a body
// just under the stored-size limit, which the real etcd must take.
func TestPutAcceptsLongLines(t *testing.T) {
	f := newFixture(t, api.Options{MaxBody: 2 << 20}) // the stored size is the limit here
	for name, opts := range map[string][]unit.Option{
		"long.service":   {{Section: "Service", Name: "ExecStart", Value: "/bin/sh -c 'echo " + strings.Repeat("x", 2100) + "'"}},
		"longer.service": {{Section: "Service", Name: "ExecStart", Value: "/bin/sh -c 'echo " + strings.Repeat("y", 500<<10) + "'"}},
		"tab.service":    {{Section: "Service", Name: "ExecStart", Value: "/bin/echo a\tb"}},
		// At the stored-size limit: the limit is below what etcd takes.
		"limit.service": {{Section: "Service", Name: "ExecStart", Value: strings.Repeat("z", unit.MaxStoredSize-80)}},
	} {
		b, err := json.Marshal(api.Unit{Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		if uf, err := unit.NewFile(opts); err != nil || uf.StoredSize() > unit.MaxStoredSize {
			t.Fatalf("test bug: %s is not within the limits: %v", name, err)
		} else if name == "limit.service" && unit.MaxStoredSize-uf.StoredSize() > 100 {
			t.Fatalf("test bug: %s is %d bytes under the limit", name, unit.MaxStoredSize-uf.StoredSize())
		}
		wantStatus(t, f.put(name, string(b)), http.StatusCreated)
		j, err := f.reg.Job(f.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := f.reg.File(f.ctx, j.Hash)
		if err != nil || !reflect.DeepEqual(stored.Options, opts) {
			t.Fatalf("%s: stored %v, %v", name, stored, err)
		}
		back, err := unit.ParseString(stored.Serialize())
		if err != nil || back.Hash() != j.Hash || !reflect.DeepEqual(back.Options, opts) {
			t.Errorf("%s: read back as %v, %v (hash %s, job's %s)", name, back, err, back.Hash().Short(), j.Hash.Short())
		}
	}
}

func TestPutHonoursMaxBody(t *testing.T) {
	f := newFixture(t, api.Options{MaxBody: 100})
	a := f.put("hello.service", `{"options":`+optionsJSON(t, helloBody)+`}`)
	wantError(t, a, http.StatusRequestEntityTooLarge, "100")
	if _, err := f.reg.Job(f.ctx, "hello.service"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("the unit was stored: %v", err)
	}
	// Without a Content-Length the limit holds as well.
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/fleet/v1/units/hello.service", strings.NewReader(`{"options":`+optionsJSON(t, helloBody)+`}`))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversize body: %d", resp.StatusCode)
	}
}

// TestPutTemplateWithSpecifiers: a template whose [X-Fleet] needs an
// instance to resolve (%i) is accepted as it is and stored unresolved;
// each instance is checked with its own name, so one that resolves to
// something invalid is refused naming the resolved value.
func TestPutTemplateWithSpecifiers(t *testing.T) {
	f := newFixture(t, api.Options{})
	fleet := "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=hostname=%i\nConflicts=%p@*\nMachineOf=%p-db@%i.service\n"
	opts := optionsJSON(t, fleet)
	wantStatus(t, f.put("tmpl@.service", `{"options":`+opts+`,"desiredState":"inactive"}`), http.StatusCreated)
	wantStatus(t, f.put("tmpl@m1.service", `{"options":`+opts+`,"desiredState":"launched"}`), http.StatusCreated)
	var u api.Unit
	decode(t, f.get("/fleet/v1/units/tmpl%40.service"), &u)
	if got := (&unit.File{Options: u.Options}).Serialize(); got != fleet {
		t.Errorf("template stored as\n%s\nwant it unresolved:\n%s", got, fleet)
	}

	// %i in MachineOf must make a unit name: "x" does not.
	bad := optionsJSON(t, "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=%i\n")
	before := f.snapshot()
	wantError(t, f.put("pin@x.service", `{"options":`+bad+`,"desiredState":"launched"}`), http.StatusBadRequest, "MachineOf=%i", `"x"`)
	f.unchanged(t, before)
	// ... and no instance can make a template whose MachineOf names itself.
	self := optionsJSON(t, "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=%n\n")
	wantError(t, f.put("me@.service", `{"options":`+self+`}`), http.StatusBadRequest, "MachineOf", "itself")
	f.unchanged(t, before)
}

// fleet 1.0's fleetctl sends an ExecStart written over lines with its
// backslash-newlines, as the unit parser of its day kept them. The unit
// is accepted and stored as systemd reads the file: the same options and
// hash as the file parsed here.
func TestPutReadsContinuedValuesAsSystemdDoes(t *testing.T) {
	f := newFixture(t, api.Options{})
	file := "[Service]\nExecStart=/bin/sh -c \\\n  'while true; do echo hi; sleep 1; done'\nRestart=always\n"
	sent := `{"desiredState":"launched","options":[` +
		`{"section":"Service","name":"ExecStart","value":"/bin/sh -c \\\n  'while true; do echo hi; sleep 1; done'"},` +
		`{"section":"Service","name":"Restart","value":"always"}]}`
	wantStatus(t, f.put("continued.service", sent), http.StatusCreated)
	want, err := unit.ParseString(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := f.reg.Job(f.ctx, "continued.service")
	if err != nil || j.Hash != want.Hash() {
		t.Fatalf("job %+v, %v; want the hash of the file as systemd reads it, %s", j, err, want.Hash().Short())
	}
	stored, err := f.reg.File(f.ctx, j.Hash)
	if err != nil || !reflect.DeepEqual(stored.Options, want.Options) {
		t.Fatalf("stored %v, %v; want %v", stored, err, want.Options)
	}
}
