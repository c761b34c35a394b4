package fleetctl

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// Output formats of the list commands.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// listFlags are the flags every list command has.
type listFlags struct {
	fields   string
	full     bool
	noLegend bool
	output   string
}

// bind defines the flags; fields are the columns a command knows, the
// defaults those shown without --fields.
func (l *listFlags) bind(fs *pflag.FlagSet, fields, defaults []string, fullHelp string) {
	fs.StringVar(&l.fields, "fields", strings.Join(defaults, ","), "Columns to print for each row. Choose from "+strings.Join(fields, ",")+".")
	fs.BoolVarP(&l.full, "full", "l", false, fullHelp)
	fs.BoolVar(&l.noLegend, "no-legend", false, "Do not print a legend (column headers)")
	fs.StringVarP(&l.output, "output", "o", outputTable, "Output format: table, or json (every field, in full, for scripts).")
}

// columns reads --fields against the known fields.
func (l *listFlags) columns(cmd string, known []string) ([]string, error) {
	switch l.output {
	case outputTable, outputJSON:
	default:
		return nil, usageErrorf(cmd, "--output=%s: want table or json", l.output)
	}
	var out []string
	for _, f := range strings.Split(l.fields, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !contains(known, f) {
			return nil, usageErrorf(cmd, "--fields: unknown field %q: want some of %s", f, strings.Join(known, ","))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, usageErrorf(cmd, "--fields: no field given: want some of %s", strings.Join(known, ","))
	}
	return out, nil
}

// table is rows of named cells.
type table struct {
	fields []string
	rows   []map[string]string
}

// add appends a row; cells not given print as "-".
func (t *table) add(cells map[string]string) { t.rows = append(t.rows, cells) }

// write prints the table as fleet did: tab-aligned columns, a header of
// the field names upper-cased (unless noLegend), "-" for empty cells.
func (t *table) write(w io.Writer, noLegend bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 1, '\t', 0)
	if !noLegend {
		head := make([]string, len(t.fields))
		for i, f := range t.fields {
			head[i] = strings.ToUpper(f)
		}
		fmt.Fprintln(tw, strings.Join(head, "\t"))
	}
	for _, r := range t.rows {
		cells := make([]string, len(t.fields))
		for i, f := range t.fields {
			cells[i] = r[f]
			if cells[i] == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hashOf returns a hash, short (7 digits) unless full.
func hashOf(h string, full bool) string {
	if full || len(h) <= 7 {
		return h
	}
	return h[:7]
}
