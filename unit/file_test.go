package unit

import (
	"crypto/sha1"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// helloService is the hello.service of fleet's documentation with an
// [X-Fleet] section, written the way people write unit files: comments,
// spaces around '=', blank lines, CRLF on one line.
const helloService = `# hello.service from the fleet docs
[Unit]
Description=My Service
After = docker.service

[Service]
TimeoutStartSec=0
ExecStartPre=-/usr/bin/docker kill hello
ExecStartPre=-/usr/bin/docker rm hello
ExecStartPre=/usr/bin/docker pull busybox
ExecStart=/usr/bin/docker run --name hello busybox /bin/sh -c "trap 'exit 0' INT TERM; while true; do echo Hello World; sleep 1; done"
; stop it again
ExecStop=/usr/bin/docker stop hello` + "\r\n" + `

[X-Fleet]
Conflicts=hello*.service
MachineMetadata="region=us-east" "diskType=SSD"
`

// helloCanonical is helloService in canonical form, written out by hand.
const helloCanonical = `[Unit]
Description=My Service
After=docker.service

[Service]
TimeoutStartSec=0
ExecStartPre=-/usr/bin/docker kill hello
ExecStartPre=-/usr/bin/docker rm hello
ExecStartPre=/usr/bin/docker pull busybox
ExecStart=/usr/bin/docker run --name hello busybox /bin/sh -c "trap 'exit 0' INT TERM; while true; do echo Hello World; sleep 1; done"
ExecStop=/usr/bin/docker stop hello

[X-Fleet]
Conflicts=hello*.service
MachineMetadata="region=us-east" "diskType=SSD"
`

func TestParseHelloService(t *testing.T) {
	f, err := ParseString(helloService)
	if err != nil {
		t.Fatalf("ParseString: %v", err)
	}
	if got := len(f.Options); got != 10 {
		t.Errorf("got %d options, want 10: %+v", got, f.Options)
	}
	if got, want := f.Options[1], (Option{"Unit", "After", "docker.service"}); got != want {
		t.Errorf("option 1 = %+v, want %+v", got, want)
	}
	if got, want := f.Sections(), []string{"Unit", "Service", "X-Fleet"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sections() = %q, want %q", got, want)
	}
	if got := f.Values("Service", "ExecStartPre"); len(got) != 3 || got[2] != "/usr/bin/docker pull busybox" {
		t.Errorf("Values(Service, ExecStartPre) = %q", got)
	}
	if got := f.Values("Service", "ExecStop"); len(got) != 1 || got[0] != "/usr/bin/docker stop hello" {
		t.Errorf("Values(Service, ExecStop) = %q (CR must be stripped)", got)
	}
	if got := f.Values("Unit", "Nope"); got != nil {
		t.Errorf("Values of a missing key = %q, want nil", got)
	}
	if got := f.Description(); got != "My Service" {
		t.Errorf("Description() = %q", got)
	}
	if f.HasInstall() {
		t.Error("HasInstall() = true for a file without [Install]")
	}
	if got := f.Serialize(); got != helloCanonical {
		t.Errorf("Serialize() =\n%s\nwant\n%s", got, helloCanonical)
	}
	sum := sha1.Sum([]byte(helloCanonical))
	want := hex.EncodeToString(sum[:])
	h := f.Hash()
	if h.String() != want {
		t.Errorf("Hash() = %s, want sha1 of the canonical text %s", h, want)
	}
	if h.Short() != want[:7] || len(h.Short()) != 7 {
		t.Errorf("Short() = %q, want %q", h.Short(), want[:7])
	}
}

func TestSerialize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"comments only", "# nothing\n; here\n", ""},
		{"one option", "[Unit]\nDescription=x\n", "[Unit]\nDescription=x\n"},
		{
			"repeated section merged at its first position",
			"[Unit]\nA=1\n[Service]\nB=2\n[Unit]\nC=3\n[Install]\nD=4\n[Service]\nE=5\n",
			"[Unit]\nA=1\nC=3\n\n[Service]\nB=2\nE=5\n\n[Install]\nD=4\n",
		},
		{
			"sections in first-seen order, not sorted",
			"[X-Fleet]\nGlobal=true\n[Unit]\nDescription=d\n",
			"[X-Fleet]\nGlobal=true\n\n[Unit]\nDescription=d\n",
		},
		{"empty section dropped", "[Unit]\n[Service]\nA=1\n", "[Service]\nA=1\n"},
		{"whitespace trimmed", "[S]\n   Key   =   v a l   \n", "[S]\nKey=v a l\n"},
		{"empty value kept", "[S]\nKey=\n", "[S]\nKey=\n"},
		{"value with equals", "[S]\nEnvironment=A=B\n", "[S]\nEnvironment=A=B\n"},
		// systemd reads a continued line as one, its backslash as a space;
		// so does Parse, and the canonical form is that one line.
		{"continuation joined", "[S]\nExecStart=/bin/a \\\n  --flag\n", "[S]\nExecStart=/bin/a    --flag\n"},
		{
			// "x\" followed by white space is not continued: the value is
			// `x\`. Its canonical line keeps a space after the backslash,
			// or it would read as continued and swallow "B=1".
			"value ending in a backslash",
			"[S]\nA=x\\ \nB=1\nC=\\\t\n",
			"[S]\nA=x\\ \nB=1\nC=\\ \n",
		},
		{
			// A trailing backslash on the last line, without a final
			// newline, means what it means with one: a continuation
			// on nothing, the backslash read as a space and trimmed.
			"continuation at EOF",
			"[S]\nA=x\\",
			"[S]\nA=x\n",
		},
		{"two backslashes are no continuation", "[S]\nA=x\\\\\nB=1\n", "[S]\nA=x\\\\ \nB=1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseString(tt.in)
			if err != nil {
				t.Fatalf("ParseString: %v", err)
			}
			got := f.Serialize()
			if got != tt.want {
				t.Fatalf("Serialize() = %q, want %q", got, tt.want)
			}
			if f.Hash() != Hash(sha1.Sum([]byte(tt.want))) {
				t.Errorf("Hash() is not the SHA-1 of %q", tt.want)
			}
			again, err := ParseString(got)
			if err != nil {
				t.Fatalf("re-parse of the canonical form: %v", err)
			}
			if again.Serialize() != got {
				t.Errorf("canonical form is not a fixed point: %q -> %q", got, again.Serialize())
			}
		})
	}
}

func TestParseWithoutFinalNewline(t *testing.T) {
	for _, s := range []string{
		"[Unit]\nA=1", "[Unit]\nA=x\\", "[Unit]\nA=a\\\nb\\", "[Unit]\nA=a\\\n  ", "[Unit]",
	} {
		f1, err1 := ParseString(s)
		f2, err2 := ParseString(s + "\n")
		if err1 != nil || err2 != nil {
			t.Errorf("%q: %v / with newline: %v", s, err1, err2)
			continue
		}
		if f1.Serialize() != f2.Serialize() {
			t.Errorf("%q parses to %q, with a final newline to %q", s, f1.Serialize(), f2.Serialize())
		}
	}
}

func TestHashDistinguishes(t *testing.T) {
	a, _ := ParseString("[Unit]\nA=1\n")
	b, _ := ParseString("[Unit]\nA=2\n")
	c, _ := ParseString("[Unit]\n# comment\n  A = 1\n")
	if a.Hash() == b.Hash() {
		t.Error("different values, same hash")
	}
	if a.Hash() != c.Hash() {
		t.Error("same canonical form, different hash")
	}
	if a.Hash().IsZero() || !(Hash{}).IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestDescriptionAndInstall(t *testing.T) {
	f, err := ParseString("[Unit]\nDescription=first\nDescription=last\n[Install]\nWantedBy=multi-user.target\n")
	if err != nil {
		t.Fatal(err)
	}
	if f.Description() != "last" {
		t.Errorf("Description() = %q, want the last one", f.Description())
	}
	if !f.HasInstall() {
		t.Error("HasInstall() = false")
	}
	if (&File{}).Description() != "" {
		t.Error("Description() of an empty file not empty")
	}
}

func TestParseHash(t *testing.T) {
	f, _ := ParseString(helloService)
	h := f.Hash()
	got, err := ParseHash(h.String())
	if err != nil || got != h {
		t.Fatalf("ParseHash(%s) = %s, %v", h, got, err)
	}
	if got, err := ParseHash(strings.ToUpper(h.String())); err != nil || got != h {
		t.Errorf("ParseHash(upper case) = %s, %v", got, err)
	}
	for _, bad := range []string{
		"", h.Short(), h.String()[:39], h.String() + "0", h.String() + "00",
		"z" + h.String()[1:], " " + h.String()[1:],
	} {
		if _, err := ParseHash(bad); err == nil || !strings.Contains(err.Error(), "40 hex digits") {
			t.Errorf("ParseHash(%q) = %v, want an error asking for 40 hex digits", bad, err)
		}
	}
}

func TestNewFile(t *testing.T) {
	opts := []Option{{"Unit", "Description", "d"}, {"Unit", "After", "a"}, {"Service", "ExecStart", "/bin/true"}}
	f, err := NewFile(opts)
	if err != nil {
		t.Fatal(err)
	}
	withBackslash, err := NewFile([]Option{{"Service", "ExecStart", `/bin/echo \`}, {"Service", "ExecStop", "/bin/true"}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseString(withBackslash.Serialize())
	if err != nil || !reflect.DeepEqual(back.Options, withBackslash.Options) {
		t.Errorf("options with a trailing backslash do not survive Serialize: %+v, %v", back, err)
	}
	opts[0].Value = "changed"
	if f.Options[0].Value != "d" {
		t.Error("NewFile kept the caller's slice")
	}
	if want := "[Unit]\nDescription=d\nAfter=a\n\n[Service]\nExecStart=/bin/true\n"; f.Serialize() != want {
		t.Errorf("Serialize() = %q, want %q", f.Serialize(), want)
	}
}
