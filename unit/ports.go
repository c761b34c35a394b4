package unit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of TCP ports.
type PortRange struct {
	Lo, Hi uint16
}

// String renders "20001-20010", or "8080" for a single port.
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// PortRanges is a sorted list of non-overlapping, non-adjacent ranges.
type PortRanges []PortRange

// Contains reports whether port p lies in one of the ranges.
func (rs PortRanges) Contains(p uint16) bool {
	for _, r := range rs {
		if p >= r.Lo && p <= r.Hi {
			return true
		}
	}
	return false
}

// Size returns how many ports the ranges hold.
func (rs PortRanges) Size() int {
	n := 0
	for _, r := range rs {
		n += int(r.Hi-r.Lo) + 1
	}
	return n
}

// String renders the ranges separated by spaces.
func (rs PortRanges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, " ")
}

// ParsePortRange reads "20001-20010" or "8080".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, errA := parsePort(lo)
	b, errB := parsePort(hi)
	if errA != nil || errB != nil {
		return PortRange{}, fmt.Errorf("port range %q: want PORT or LOW-HIGH with ports from 1 to 65535", s)
	}
	if a > b {
		return PortRange{}, fmt.Errorf("port range %q: %d is above %d", s, a, b)
	}
	return PortRange{Lo: a, Hi: b}, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}

// normalize sorts and merges overlapping or adjacent ranges.
func (rs PortRanges) normalize() PortRanges {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo })
	out := PortRanges{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if int(r.Lo) <= int(last.Hi)+1 {
			if r.Hi > last.Hi {
				last.Hi = r.Hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
