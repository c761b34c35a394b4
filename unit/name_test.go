package unit

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseNameValid(t *testing.T) {
	long := strings.Repeat("a", MaxNameLength-len(".service")) + ".service"
	tests := []struct {
		in   string
		want Name
	}{
		{"hello.service", Name{Full: "hello.service", Prefix: "hello", Suffix: ".service"}},
		{"web@eu1.service", Name{Full: "web@eu1.service", Prefix: "web", Instance: "eu1", Suffix: ".service", HasAt: true}},
		{"web@.service", Name{Full: "web@.service", Prefix: "web", Suffix: ".service", HasAt: true}},
		{"Aa0:_.-x.socket", Name{Full: "Aa0:_.-x.socket", Prefix: "Aa0:_.-x", Suffix: ".socket"}},
		{"backup@daily.timer", Name{Full: "backup@daily.timer", Prefix: "backup", Instance: "daily", Suffix: ".timer", HasAt: true}},
		{"watch@.path", Name{Full: "watch@.path", Prefix: "watch", Suffix: ".path", HasAt: true}},
		{"multi@user.target", Name{Full: "multi@user.target", Prefix: "multi", Instance: "user", Suffix: ".target", HasAt: true}},
		{"data.mount", Name{Full: "data.mount", Prefix: "data", Suffix: ".mount"}},
		// ".automount" must win over its tail ".mount".
		{"data.automount", Name{Full: "data.automount", Prefix: "data", Suffix: ".automount"}},
		{"a.service.timer", Name{Full: "a.service.timer", Prefix: "a.service", Suffix: ".timer"}},
		{"..service", Name{Full: "..service", Prefix: ".", Suffix: ".service"}},
		{long, Name{Full: long, Prefix: strings.TrimSuffix(long, ".service"), Suffix: ".service"}},
	}
	for _, tt := range tests {
		got, err := ParseName(tt.in)
		if err != nil {
			t.Errorf("ParseName(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseName(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, suf := range suffixes {
		if err := ValidateName("x" + suf); err != nil {
			t.Errorf("ValidateName(x%s): %v", suf, err)
		}
	}
}

func TestParseNameInvalid(t *testing.T) {
	tests := []struct {
		in   string
		rule string // a fragment of the error message naming the rule
	}{
		{"", "empty name"},
		{strings.Repeat("a", MaxNameLength-len(".service")+1) + ".service", "240 bytes long, over the limit of 239"},
		{strings.Repeat("a", 242) + ".service", "250 bytes long"},
		{"@foo.service", "must not start with '@'"},
		{"@.service", "must not start with '@'"},
		{"foo bar.service", "character ' ' at position 3"},
		{"foo/bar.service", "character '/'"},
		{"foo\x00.service", "character '\\x00'"},
		{"föo.service", "is not one of [A-Za-z0-9:_.@-]"},
		{"foo", "must end in one of"},
		{"foo.conf", "must end in one of"},
		{"foo.Service", "must end in one of"},
		{"foo.service.", "must end in one of"},
		{".service", "empty name before the suffix"},
		{"foo@bar@baz.service", "more than one '@'"},
		{"foo@@.service", "more than one '@'"},
		{"foo@.mount", ".mount units cannot be templates"},
		{"foo@1.device", ".device units cannot be templates"},
		{"foo@.slice", ".slice units cannot be templates"},
		{"foo@.swap", ".swap units cannot be templates"},
		{"foo@.scope", ".scope units cannot be templates"},
	}
	for _, tt := range tests {
		_, err := ParseName(tt.in)
		if err == nil {
			t.Errorf("ParseName(%q) = nil error, want one mentioning %q", tt.in, tt.rule)
			continue
		}
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseName(%q) = %v, does not wrap ErrInvalidName", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("ParseName(%q) = %q, want it to mention %q", tt.in, err, tt.rule)
		}
		if ValidateName(tt.in) == nil {
			t.Errorf("ValidateName(%q) = nil, ParseName disagrees", tt.in)
		}
	}
}

func TestNameParts(t *testing.T) {
	tests := []struct {
		in            string
		template      bool
		instance      bool
		templateName  string
		withoutSuffix string
	}{
		{"hello.service", false, false, "", "hello"},
		{"web@.service", true, false, "", "web@"},
		{"web@eu1.service", false, true, "web@.service", "web@eu1"},
		{"sock@a:b.socket", false, true, "sock@.socket", "sock@a:b"},
		{"x.y.timer", false, false, "", "x.y"},
	}
	for _, tt := range tests {
		n, err := ParseName(tt.in)
		if err != nil {
			t.Fatalf("ParseName(%q): %v", tt.in, err)
		}
		if got := n.IsTemplate(); got != tt.template {
			t.Errorf("%q.IsTemplate() = %v, want %v", tt.in, got, tt.template)
		}
		if got := n.IsInstance(); got != tt.instance {
			t.Errorf("%q.IsInstance() = %v, want %v", tt.in, got, tt.instance)
		}
		if got := n.Template(); got != tt.templateName {
			t.Errorf("%q.Template() = %q, want %q", tt.in, got, tt.templateName)
		}
		if got := n.WithoutSuffix(); got != tt.withoutSuffix {
			t.Errorf("%q.WithoutSuffix() = %q, want %q", tt.in, got, tt.withoutSuffix)
		}
	}
}

func TestCompleteName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello.service"},
		{"hello.service", "hello.service"},
		{"web@1", "web@1.service"},
		{"web@1.socket", "web@1.socket"},
		{"backup.timer", "backup.timer"},
		{"my.app", "my.app.service"},
		{"", ".service"},
	}
	for _, tt := range tests {
		if got := CompleteName(tt.in); got != tt.want {
			t.Errorf("CompleteName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if !HasKnownSuffix("a.swap") || HasKnownSuffix("a.swp") {
		t.Error("HasKnownSuffix: wrong answer for a.swap or a.swp")
	}
}

func TestPathIn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "units")
	good := []struct{ dir, name, want string }{
		{dir, "hello.service", filepath.Join(dir, "hello.service")},
		{dir + "/", "web@1.service", filepath.Join(dir, "web@1.service")},
		{dir + "/./sub/..", "a.timer", filepath.Join(dir, "a.timer")},
		// Dots are legal name characters; "..service" is a file in dir.
		{dir, "..service", filepath.Join(dir, "..service")},
		{dir, "...service", filepath.Join(dir, "...service")},
		{"/", "root.service", "/root.service"},
	}
	for _, tt := range good {
		got, err := PathIn(tt.dir, tt.name)
		if err != nil {
			t.Errorf("PathIn(%q, %q): %v", tt.dir, tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("PathIn(%q, %q) = %q, want %q", tt.dir, tt.name, got, tt.want)
		}
		if filepath.Dir(got) != filepath.Clean(tt.dir) {
			t.Errorf("PathIn(%q, %q) = %q escapes the directory", tt.dir, tt.name, got)
		}
	}

	bad := []struct{ name, rule string }{
		{"../x.service", "character '/'"},
		{"..", "must end in one of"},
		{".", "must end in one of"},
		{"a/b.service", "character '/'"},
		{"/etc/passwd.service", "character '/'"},
		{"/x.service", "character '/'"},
		{`..\x.service`, `character '\\'`},
		{"x.service\x00", "character '\\x00'"},
		{"x\x00/../../y.service", "character '\\x00'"},
		{"", "empty name"},
		{"~/x.service", "character '~'"},
		{"x.service\n", "character '\\n'"},
	}
	for _, tt := range bad {
		p, err := PathIn(dir, tt.name)
		if err == nil {
			t.Errorf("PathIn(dir, %q) = %q, want an error", tt.name, p)
			continue
		}
		if p != "" {
			t.Errorf("PathIn(dir, %q) returned path %q with its error", tt.name, p)
		}
		if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("PathIn(dir, %q) = %v, want ErrInvalidName mentioning %q", tt.name, err, tt.rule)
		}
	}
}
