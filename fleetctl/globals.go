package fleetctl

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/registry"
)

// Drivers: how fleetctl reaches the cluster.
const (
	driverAPI  = "API"  // fleet's HTTP API, served by fleetd
	driverEtcd = "etcd" // the registry in etcd, read and written directly
)

// Default endpoints.
const (
	defaultEndpoint     = "unix:///var/run/fleet.sock"
	defaultEtcdEndpoint = "http://127.0.0.1:2379"
)

// envPrefix prefixes the environment variable of every global flag:
// --etcd-key-prefix is also FLEETCTL_ETCD_KEY_PREFIX.
const envPrefix = "FLEETCTL_"

// globals are fleetctl's global flags, fleet's names and defaults.
type globals struct {
	endpoint       string
	driver         string
	etcdKeyPrefix  string
	keyFile        string
	certFile       string
	caFile         string
	requestTimeout float64 // seconds
	debug          bool
	version        bool
	help           bool

	tunnel         string
	knownHosts     string
	strictHostKeys bool
	sshUser        string
	sshTimeout     float64 // seconds
}

// bind defines the global flags on fs.
func (g *globals) bind(fs *pflag.FlagSet, home string) {
	fs.StringVar(&g.endpoint, "endpoint", defaultEndpoint, "Location of the fleet API if --driver=API. Alternatively, if --driver=etcd, location of the etcd API (comma-separated).")
	fs.StringVar(&g.driver, "driver", driverAPI, "Adapter used to execute fleetctl commands. Options include \"API\" and \"etcd\".")
	fs.StringVar(&g.etcdKeyPrefix, "etcd-key-prefix", registry.DefaultPrefix, "Keyspace for fleet data in etcd (--driver=etcd).")
	fs.StringVar(&g.keyFile, "key-file", "", "Location of TLS key file used to secure communication with the fleet API or etcd")
	fs.StringVar(&g.certFile, "cert-file", "", "Location of TLS cert file used to secure communication with the fleet API or etcd")
	fs.StringVar(&g.caFile, "ca-file", "", "Location of TLS CA file used to secure communication with the fleet API or etcd")
	fs.Float64Var(&g.requestTimeout, "request-timeout", 3.0, "Amount of time in seconds to allow a single request before considering it failed.")
	fs.BoolVar(&g.debug, "debug", false, "Print out more debug information to stderr")
	fs.BoolVar(&g.version, "version", false, "Print the version and exit")
	fs.BoolVarP(&g.help, "help", "h", false, "Print help and exit")
	fs.StringVar(&g.tunnel, "tunnel", "", "Establish an SSH tunnel through the provided address for communication with fleet and etcd.")
	fs.StringVar(&g.knownHosts, "known-hosts-file", home+"/.fleetctl/known_hosts", "File used to store remote machine fingerprints. With --strict-host-key-checking=false, unknown hosts are trusted on first use and added to it.")
	fs.BoolVar(&g.strictHostKeys, "strict-host-key-checking", true, "Verify host keys presented by remote machines before initiating SSH connections.")
	fs.StringVar(&g.sshUser, "ssh-username", "core", "Username to use when connecting to CoreOS instance.")
	fs.Float64Var(&g.sshTimeout, "ssh-timeout", 10.0, "Amount of time in seconds to allow for SSH connection initialization before failing.")
}

// timeout is --request-timeout as a duration (0: none).
func (g *globals) timeout() time.Duration {
	return time.Duration(g.requestTimeout * float64(time.Second))
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every global flag the command line left alone from its
// FLEETCTL_<NAME> variable, when that is set and not empty.
func applyEnv(fs *pflag.FlagSet, env map[string]string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		v := env[envName(f.Name)]
		if v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = usageErrorf("", "%s=%q: invalid value for --%s: %w", envName(f.Name), v, f.Name, serr)
		}
	})
	return err
}

// check validates the globals once flags and environment are applied.
func (g *globals) check(fs *pflag.FlagSet) error {
	switch strings.ToLower(g.driver) {
	case strings.ToLower(driverAPI):
		g.driver = driverAPI
	case strings.ToLower(driverEtcd):
		g.driver = driverEtcd
		if !fs.Changed("endpoint") {
			g.endpoint = defaultEtcdEndpoint
		}
	default:
		return usageErrorf("", "--driver=%s: want %s or %s", g.driver, driverAPI, driverEtcd)
	}
	if g.requestTimeout < 0 {
		return usageErrorf("", "--request-timeout=%v: must not be negative", g.requestTimeout)
	}
	if g.endpoint == "" {
		return usageErrorf("", "--endpoint is empty")
	}
	return nil
}

// environment turns KEY=VALUE pairs into a map; the last one wins.
func environment(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// longDashes rewrites Go-flag style "-name" and "-name=value" to
// "--name...", for the long flags fs knows: fleet's older fleetctl took
// them that way (fleetctl -etcd-key-prefix=/fleet list-units). Nothing
// after "--" is touched.
func longDashes(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// flagNames lists the long names of fs's flags, with "--".
func flagNames(fs *pflag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}
