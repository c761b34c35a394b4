package unit

import (
	"slices"
	"strings"
)

// JoinContinuations reads values that arrive continued over lines as
// systemd reads them from a file, and returns opts with those values
// joined (opts itself when none is). fleet 1.0's fleetctl, with the unit
// parser of its day, sends a value written over several lines as it was
// written: each line but the last ending in a backslash, a newline
// after each backslash. systemd reads such a value as one line, each
// continuing backslash read as a space and comment lines inside it
// skipped, which is what Parse does with the file itself: the result is
// the option Parse would have read.
//
// A value with a newline that does not end a continued line is left as
// it is, for NewFile to refuse: it would be more lines, perhaps other
// directives.
func JoinContinuations(opts []Option) []Option {
	var out []Option // a copy, made at the first joined value
	for i, o := range opts {
		v, ok := joinValue(o.Value)
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(opts)
		}
		out[i].Value = v
	}
	if out == nil {
		return opts
	}
	return out
}

// joinValue joins a value continued over lines, reporting false when v
// has no newline or a newline that does not end a continued line.
func joinValue(v string) (string, bool) {
	if !strings.Contains(v, "\n") {
		return v, false
	}
	var b []byte
	pending := false
	for i, line := range strings.Split(v, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i > 0 && !pending {
			return v, false
		}
		if i > 0 && isComment([]byte(line)) {
			continue
		}
		b = append(b, line...)
		if pending = continues(b); pending {
			b[len(b)-1] = ' '
		}
	}
	return strings.Trim(string(b), blanks), true
}
