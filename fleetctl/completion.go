package fleetctl

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// completionCmd is `fleetctl completion bash|zsh`.
type completionCmd struct{}

func newCompletionCmd() *command {
	c := &completionCmd{}
	return &command{
		name:    "completion",
		summary: "Print a shell completion script (bash or zsh)",
		usage:   "SHELL",
		desc: `Print a script that completes fleetctl's commands, flags and, from the
cluster, unit names. Load it with:
	source <(fleetctl completion bash)
	source <(fleetctl completion zsh)`,
		minArgs: 1,
		maxArgs: 1,
		run:     c.run,
	}
}

func (c *completionCmd) run(_ context.Context, s *session, args []string) error {
	spec := completionSpec(s.gfs)
	switch args[0] {
	case "bash":
		return writeBashCompletion(s.out, spec)
	case "zsh":
		return writeZshCompletion(s.out, spec)
	}
	return usageErrorf("completion", "completion: shell %q: want bash or zsh", args[0])
}

// completeUnitsCmd is the hidden `fleetctl __complete-units`: the names
// of the cluster's units, one a line, for completion scripts.
type completeUnitsCmd struct{}

func newCompleteUnitsCmd() *command {
	c := &completeUnitsCmd{}
	return &command{name: "__complete-units", summary: "List unit names for shell completion", hidden: true, run: c.run}
}

func (c *completeUnitsCmd) run(ctx context.Context, s *session, _ []string) error {
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	us, err := cl.Units(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		fmt.Fprintln(s.out, u.Name)
	}
	return nil
}

// compSpec is what completion scripts need to know of the commands.
type compSpec struct {
	commands    []compCommand
	globalFlags []string // "--name"
	valueFlags  []string // global flags that take a value, "--name"
}

type compCommand struct {
	name, summary string
	flags         []string
	valueFlags    []string // those of flags that take a value
	units         bool     // its arguments are units
}

func completionSpec(gfs *pflag.FlagSet) compSpec {
	spec := compSpec{globalFlags: flagNames(gfs), valueFlags: valueFlagNames(gfs)}
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		if c.flags != nil {
			c.flags(fs)
		}
		spec.commands = append(spec.commands, compCommand{name: c.name, summary: c.summary,
			flags: flagNames(fs), valueFlags: valueFlagNames(fs), units: strings.Contains(c.usage, "UNIT")})
	}
	return spec
}

// valueFlagNames lists the flags of fs that take a value, sorted.
func valueFlagNames(fs *pflag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Value.Type() != "bool" {
			out = append(out, "--"+f.Name)
		}
	})
	sort.Strings(out)
	return out
}

func writeBashCompletion(w io.Writer, spec compSpec) error {
	var b strings.Builder
	var names, unitCmds []string
	for _, c := range spec.commands {
		names = append(names, c.name)
		if c.units {
			unitCmds = append(unitCmds, c.name)
		}
	}
	fmt.Fprintf(&b, `# bash completion for fleetctl; load with: source <(fleetctl completion bash)
_fleetctl() {
    local cur="${COMP_WORDS[COMP_CWORD]}" cmd="" cmdi=0 i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            %[1]s) ((i++)) ;;
            -*) ;;
            *) cmd="${COMP_WORDS[i]}"; cmdi=$i; break ;;
        esac
    done
    local globals="%[2]s"
    if [[ -z "$cmd" ]]; then
        if ((COMP_CWORD > 1)) && [[ "|%[1]s|" == *"|${COMP_WORDS[COMP_CWORD-1]}|"* ]]; then
            return # the value of a flag: nothing to offer
        fi
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "%[3]s" -- "$cur"))
        fi
        return
    fi
    local flags="" values=""
    case "$cmd" in
`, strings.Join(spec.valueFlags, "|"), strings.Join(spec.globalFlags, " "), strings.Join(names, " "))
	for _, c := range spec.commands {
		if len(c.flags) > 0 {
			fmt.Fprintf(&b, "        %s) flags=%q; values=%q ;;\n", c.name, strings.Join(c.flags, " "), " "+strings.Join(c.valueFlags, " ")+" ")
		}
	}
	fmt.Fprintf(&b, `    esac
    if ((COMP_CWORD - 1 > cmdi)) && [[ "$values" == *" ${COMP_WORDS[COMP_CWORD-1]} "* ]]; then
        return # the value of a flag: nothing to offer
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$flags $globals" -- "$cur"))
        return
    fi
    case "$cmd" in
        %s)
            local units
            units="$(fleetctl "${COMP_WORDS[@]:1:cmdi-1}" __complete-units 2>/dev/null)"
            COMPREPLY=($(compgen -W "$units" -- "$cur") $(compgen -f -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
        help) COMPREPLY=($(compgen -W "%s" -- "$cur")) ;;
    esac
}
complete -F _fleetctl fleetctl
`, strings.Join(unitCmds, "|"), strings.Join(names, " "))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeZshCompletion(w io.Writer, spec compSpec) error {
	var b strings.Builder
	b.WriteString("#compdef fleetctl\n# zsh completion for fleetctl; load with: source <(fleetctl completion zsh)\n")
	b.WriteString("_fleetctl_units() {\n    local -a units\n    units=(${(f)\"$(fleetctl $pre __complete-units 2>/dev/null)\"})\n    _describe -t units 'unit' units\n    _files\n}\n\n")
	b.WriteString("_fleetctl() {\n    local -a commands globals pre\n    commands=(\n")
	for _, c := range spec.commands {
		fmt.Fprintf(&b, "        %s\n", zshQuote(c.name+":"+c.summary))
	}
	b.WriteString("    )\n    globals=(\n")
	for _, f := range spec.globalFlags {
		fmt.Fprintf(&b, "        %s\n", zshQuote(f+zshValue(f, spec.valueFlags)))
	}
	// Find the command after the global flags, stepping over their
	// values, then complete its words as if it were the command line.
	fmt.Fprintf(&b, `    )
    local cmdi=2
    while (( cmdi < CURRENT )); do
        case ${words[cmdi]} in
            (%s) (( cmdi += 2 )) ;;
            (-*) (( cmdi++ )) ;;
            (*) break ;;
        esac
    done
    if (( CURRENT <= cmdi )); then
        _arguments -s $globals
        _describe -t commands 'fleetctl command' commands
        return
    fi
    pre=(${words[2,cmdi-1]})
    shift $(( cmdi - 1 )) words
    (( CURRENT -= cmdi - 1 ))
    case ${words[1]} in
`, strings.Join(spec.valueFlags, "|"))
	for _, c := range spec.commands {
		var flags []string
		for _, f := range c.flags {
			flags = append(flags, zshQuote(f+zshValue(f, c.valueFlags)))
		}
		args := ""
		switch {
		case c.units:
			args = " '*:unit:_fleetctl_units'"
		case c.name == "completion":
			args = " '1:shell:(bash zsh)'"
		case c.name == "help":
			args = ` '1:command:{_describe -t commands "fleetctl command" commands}'`
		}
		fmt.Fprintf(&b, "        (%s) _arguments -s %s $globals%s ;;\n", c.name, strings.Join(flags, " "), args)
	}
	b.WriteString("    esac\n}\n\ncompdef _fleetctl fleetctl\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// zshValue marks a flag that takes a value for _arguments.
func zshValue(flag string, valueFlags []string) string {
	if contains(valueFlags, flag) {
		return "=[value]:value:"
	}
	return ""
}

// zshQuote single-quotes s for zsh, escaping brackets and colons that
// _describe and _arguments read.
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
