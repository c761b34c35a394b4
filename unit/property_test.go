package unit

import (
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// textOf draws strings over an alphabet of the characters that matter to
// the unit file syntax: blanks, comment, section and continuation
// characters, quotes, multi-byte runes, and, rarely (so that most lists
// are accepted), line ends, NUL and other controls, and invalid UTF-8.
func textOf(label string) *rapid.Generator[string] {
	common := rapid.SampledFrom([]string{
		"a", "Z", "0", "-", ".", " ", "  ", "\t", "=", "#", ";", "[", "]", `\`, `\\`, `"`, "'", "%n", "é", "☕", "\u2028",
	})
	rare := rapid.SampledFrom([]string{"\n", "\r", "\r\n", "\x00", "\x1b", "\x7f", "\u0085", "\xff"})
	piece := rapid.Custom(func(t *rapid.T) string {
		if oneIn(t, 32) {
			return rare.Draw(t, "rare")
		}
		return common.Draw(t, "common")
	})
	return rapid.Custom(func(t *rapid.T) string {
		s := ""
		for _, p := range rapid.SliceOfN(piece, 0, 8).Draw(t, label) {
			s += p
		}
		return s
	})
}

// optionsOf draws option lists with few distinct sections and names, so
// that repeats and interleavings are common; most sections and names are
// well formed and most values have no blank at either end, so that most
// lists are accepted and the rest are near misses.
func optionsOf() *rapid.Generator[[]Option] {
	section := mostly(rapid.SampledFrom([]string{"Unit", "Service", "X-Fleet", "X Y"}), textOf("section"))
	name := mostly(rapid.SampledFrom([]string{"Description", "ExecStart", "Conflicts", "A#;["}), textOf("name"))
	value := rapid.Custom(func(t *rapid.T) string {
		v := textOf("value").Draw(t, "v")
		if !oneIn(t, 4) {
			v = strings.Trim(v, " \t")
		}
		return v
	})
	return rapid.Custom(func(t *rapid.T) []Option {
		n := rapid.IntRange(0, 6).Draw(t, "n")
		opts := make([]Option, n)
		for i := range opts {
			opts[i] = Option{section.Draw(t, "s"), name.Draw(t, "k"), value.Draw(t, "v")}
		}
		if !oneIn(t, 4) {
			opts = groupSections(opts) // NewFile refuses a section seen again
		}
		return opts
	})
}

// mostly draws from usual 15 times in 16, else from other.
func mostly(usual, other *rapid.Generator[string]) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if oneIn(t, 16) {
			return other.Draw(t, "other")
		}
		return usual.Draw(t, "usual")
	})
}

// oneIn is true about once in n (a power of two) draws. rapid biases
// integer draws towards their bounds; coin flips it does not.
func oneIn(t *rapid.T, n int) bool {
	for ; n > 1; n /= 2 {
		if !rapid.Bool().Draw(t, "coin") {
			return false
		}
	}
	return true
}

// For every option list NewFile (the API's check) accepts, Parse of the
// canonical form gives back the same list, and so the same hash: the
// serialization is a bijection on accepted input, so two different lists
// never share a canonical form, a hash, or a stored body.
func TestSerializeParseBijection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := optionsOf().Draw(t, "opts")
		f, err := NewFile(opts)
		if err != nil {
			return
		}
		back, err := ParseString(f.Serialize())
		if err != nil {
			t.Fatalf("canonical form %q of accepted options does not parse: %v", f.Serialize(), err)
		}
		if len(back.Options)+len(f.Options) > 0 && !reflect.DeepEqual(back.Options, f.Options) {
			t.Fatalf("options %q read back as %q from %q", f.Options, back.Options, f.Serialize())
		}
		if back.Hash() != f.Hash() {
			t.Fatalf("hash changed through %q", f.Serialize())
		}
	})
}
