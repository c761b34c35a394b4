package agent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// impure are standard packages that would let the planner do I/O, start
// goroutines or draw random numbers. The agent's loop and its D-Bus
// implementation belong in a subpackage. time is allowed for its
// Duration; clock reads are refused by TestNoClock.
var impure = map[string]bool{
	"os": true, "os/exec": true, "io/fs": true, "net": true, "syscall": true,
	"sync": true, "math/rand": true, "math/rand/v2": true,
	"crypto/rand": true, "log": true, "log/slog": true, "unsafe": true,
}

// The package imports only the standard library and the unit package,
// and nothing from the standard library that breaks purity.
func TestImports(t *testing.T) {
	_, files := sources(t)
	for name, f := range files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			switch {
			case path == "github.com/fleetsim/fleet/unit":
			case strings.Contains(first, "."):
				t.Errorf("%s imports %s: only the standard library and unit are allowed", name, path)
			case impure[path]:
				t.Errorf("%s imports %s: the planner must stay pure", name, path)
			}
		}
	}
}

// clock are the time functions that read the clock or wait on it.
var clock = map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true,
	"Sleep": true, "Tick": true, "NewTimer": true, "NewTicker": true}

// The step takes time as an input (Tick): no file reads the clock.
func TestNoClock(t *testing.T) {
	fset, files := sources(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && clock[sel.Sel.Name] {
					t.Errorf("%s: time.%s reads the clock", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}

// sources parses the package's files, tests left out, by file name.
func sources(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset, out := token.NewFileSet(), map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = f
	}
	return fset, out
}
