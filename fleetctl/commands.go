package fleetctl

import (
	"context"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// command is one verb of fleetctl. A constructor builds it with a fresh
// struct for its flags, so nothing is shared between runs.
type command struct {
	name    string
	summary string // one line, for the command list
	usage   string // what follows the name: "[flags] UNIT..."
	desc    string // more about it, for "fleetctl help <command>"
	minArgs int
	maxArgs int  // -1: no limit
	hidden  bool // left out of help and completion lists
	flags   func(fs *pflag.FlagSet)
	run     func(ctx context.Context, s *session, args []string) error
}

// commands returns every command, sorted by name.
func commands() []*command {
	all := []*command{
		newCatCmd(), newDestroyCmd(), newFDForwardCmd(), newHelpCmd(),
		newJournalCmd(), newListMachinesCmd(), newListUnitFilesCmd(), newListUnitsCmd(),
		newLoadCmd(), newPlanCmd(), newRestartCmd(), newSSHCmd(), newStartCmd(),
		newStatusCmd(), newStopCmd(), newSubmitCmd(), newUnloadCmd(), newVerifyCmd(),
		newVersionCmd(), newCompletionCmd(), newCompleteUnitsCmd(),
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all
}

// findCommand returns the command called name, or nil.
func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// unknownCommand is the usage error for name, with the nearest command
// names as a suggestion.
func unknownCommand(name string) error {
	var near []string
	for _, c := range commands() {
		if !c.hidden && (strings.HasPrefix(c.name, name) || editDistance(c.name, name) <= 2) {
			near = append(near, c.name)
		}
	}
	if len(near) > 0 {
		return usageErrorf("", "unknown command %q (did you mean %s?)", name, strings.Join(near, " or "))
	}
	return usageErrorf("", "unknown command %q", name)
}

// checkArgs checks the number of arguments.
func (c *command) checkArgs(args []string) error {
	switch {
	case len(args) < c.minArgs && c.minArgs == 1:
		return usageErrorf(c.name, "%s: no %s given", c.name, c.argWord())
	case len(args) < c.minArgs:
		return usageErrorf(c.name, "%s: wants %d arguments, got %d", c.name, c.minArgs, len(args))
	case c.maxArgs == 0 && len(args) > 0:
		return usageErrorf(c.name, "%s takes no arguments, got %q", c.name, strings.Join(args, " "))
	case c.maxArgs > 0 && len(args) > c.maxArgs:
		return usageErrorf(c.name, "%s takes at most %d argument(s), got %d", c.name, c.maxArgs, len(args))
	}
	return nil
}

// argWord names the command's arguments for messages: the usage's last
// word, lower-cased ("UNIT..." -> "unit").
func (c *command) argWord() string {
	f := strings.Fields(c.usage)
	if len(f) == 0 {
		return "argument"
	}
	w := strings.Trim(f[len(f)-1], "[].")
	return strings.ToLower(w)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
