package fleetd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"
)

// DefaultConfigFile is read when --config is not given, if it exists.
const DefaultConfigFile = "/etc/fleet/fleet.conf"

// Invocation is what the command line asked for besides the configuration.
type Invocation struct {
	Version bool
	Help    string // the usage text, when --help was given
}

// Load builds the configuration from defaults, then the config file, then
// FLEET_* variables, then flags (each option is also a flag with dashes:
// --agent-ttl, --etcd-servers, ...). readFile reads the config file.
func Load(args, env []string, readFile func(string) ([]byte, error)) (Config, Invocation, error) {
	c := Defaults()
	var inv Invocation
	fset := pflag.NewFlagSet("fleetd", pflag.ContinueOnError)
	fset.SetOutput(new(bytes.Buffer))
	config := fset.String("config", "", "configuration file (default "+DefaultConfigFile+")")
	fset.BoolVar(&inv.Version, "version", false, "print the version and exit")
	help := fset.BoolP("help", "h", false, "print this help")
	defaults := Defaults()
	values := map[string]*flagValue{}
	for _, o := range options {
		values[o.key] = addOptionFlag(fset, o, &defaults)
	}
	if err := fset.Parse(args); err != nil {
		return c, inv, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if fset.NArg() > 0 {
		return c, inv, fmt.Errorf("%w: unexpected argument %q", ErrConfig, fset.Arg(0))
	}
	if *help {
		inv.Help = "Usage: fleetd [flags]\n" + fset.FlagUsages()
		return c, inv, nil
	}
	if err := c.readConfigFile(*config, readFile); err != nil {
		return c, inv, err
	}
	if err := c.ApplyEnv(env); err != nil {
		return c, inv, err
	}
	var ferr error
	fset.Visit(func(f *pflag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		if v, ok := values[key]; ok && ferr == nil {
			ferr = c.set(key, v.raw, "flag --"+f.Name)
		}
	})
	return c, inv, ferr
}

func (c *Config) readConfigFile(name string, readFile func(string) ([]byte, error)) error {
	explicit := name != ""
	if !explicit {
		name = DefaultConfigFile
	}
	data, err := readFile(name)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrConfig, name, err)
	}
	return c.ReadFile(name, bytes.NewReader(data))
}

// flagValue is an option's flag: it keeps what the command line said,
// applied after fleet.conf and FLEET_* so that flags win.
type flagValue struct {
	raw  string
	kind string
}

func (v *flagValue) String() string     { return v.raw }
func (v *flagValue) Set(s string) error { v.raw = s; return nil }
func (v *flagValue) Type() string       { return v.kind }

// addOptionFlag adds o's flag (dashes for underscores). Its usage names
// the fleet.conf key and the default, which pflag would leave out for
// zero values (false, 0, empty); a boolean works bare (--disable-engine).
func addOptionFlag(fset *pflag.FlagSet, o option, defaults *Config) *flagValue {
	v := &flagValue{kind: o.kind}
	def := o.show(defaults)
	if def == "" {
		def = "none"
	}
	f := fset.VarPF(v, strings.ReplaceAll(o.key, "_", "-"), "", fmt.Sprintf("%s (fleet.conf %s; default %s)", o.help, o.key, def))
	if o.kind == "bool" {
		f.NoOptDefVal = "true"
	}
	return v
}
