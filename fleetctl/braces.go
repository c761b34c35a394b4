package fleetctl

import (
	"strconv"
	"strings"
)

// maxBraceWords bounds what one argument may expand to.
const maxBraceWords = 10000

// expandBraces expands shell brace expressions in s, as bash does for
// unquoted words: "web@{1..3}.service" gives web@1.service,
// web@2.service and web@3.service; "{a,b}" gives a and b; ranges may
// count down ({3..1}). A word with no well-formed brace expression is
// returned as it is, so a shell that already expanded changes nothing.
func expandBraces(s string) []string {
	open, end, items := firstBrace(s)
	if open < 0 {
		return []string{s}
	}
	var out []string
	for _, item := range items {
		for _, rest := range expandBraces(s[end+1:]) {
			for _, head := range expandBraces(s[:open] + item) {
				out = append(out, head+rest)
				if len(out) > maxBraceWords {
					return []string{s}
				}
			}
		}
	}
	return out
}

// firstBrace finds the first well-formed brace expression: its bounds and
// the words it stands for; open is -1 when there is none.
func firstBrace(s string) (open, end int, items []string) {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth == 0 {
				if items := braceItems(s[i+1 : j]); items != nil {
					return i, j, items
				}
				break
			}
		}
	}
	return -1, -1, nil
}

// braceItems reads the inside of {...}: a range a..b or a comma list of
// at least two words (which may hold braces of their own).
func braceItems(in string) []string {
	if lo, hi, ok := strings.Cut(in, ".."); ok {
		return braceRange(lo, hi)
	}
	var items []string
	depth, start := 0, 0
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				items = append(items, in[start:i])
				start = i + 1
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	return append(items, in[start:])
}

// braceRange expands a numeric range, keeping a zero-padded width.
func braceRange(lo, hi string) []string {
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || abs(b-a) >= maxBraceWords {
		return nil
	}
	width := 0
	if (len(lo) > 1 && lo[0] == '0') || (len(hi) > 1 && hi[0] == '0') {
		width = max(len(lo), len(hi))
	}
	step := 1
	if b < a {
		step = -1
	}
	var out []string
	for i := a; ; i += step {
		n := strconv.Itoa(i)
		for len(n) < width {
			n = "0" + n
		}
		out = append(out, n)
		if i == b {
			return out
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
