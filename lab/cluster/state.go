package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/fleetsim/fleet/lab/nsboot"
)

// StateFile is the name of the state file in a cluster's directory.
const StateFile = "state.json"

// LogFile is where a lab's owner process (fleetlab's supervisor) writes
// its log, in the cluster's directory; Teardown removes it.
const LogFile = "supervisor.log"

// State is what the state file records about a running cluster, for
// other processes: where its machines are and who owns them.
type State struct {
	Name      string         `json:"name"`
	Bridge    string         `json:"bridge"`
	Subnet    string         `json:"subnet"`
	Dir       string         `json:"dir"`
	Fleetd    string         `json:"fleetd"`
	Owner     Process        `json:"owner"`
	Endpoint  string         `json:"endpoint"`
	AgentTTL  string         `json:"agentTTL"`
	Reconcile string         `json:"reconcile"`
	Machines  []MachineState `json:"machines"`
	// Etcd is the members' client URLs; TLS the host's files to reach
	// them (empty when the lab runs without TLS).
	Etcd []string `json:"etcd"`
	TLS  TLSFiles `json:"tls"`
}

// MachineState is one machine in the state file.
type MachineState struct {
	Hostname string  `json:"hostname"`
	IP       string  `json:"ip"`
	ID       string  `json:"id"`
	Metadata string  `json:"metadata"`
	Member   bool    `json:"etcdMember"`
	Endpoint string  `json:"endpoint"`
	Veth     string  `json:"veth"`
	Systemd  Process `json:"systemd"` // zero while the machine is down
}

// Process names a process for good: its PID and its start time (in
// clock ticks after boot), so that a reused PID is never taken for it.
type Process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// ProcessOf returns pid with its start time, or the zero Process if it
// does not exist.
func ProcessOf(pid int) Process {
	start, _, err := procStat(pid)
	if err != nil {
		return Process{}
	}
	return Process{PID: pid, Start: start}
}

// Alive reports whether p still runs: the same process (not a reused
// PID), and not a zombie waiting for its parent.
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	start, state, err := procStat(p.PID)
	return err == nil && start == p.Start && state != "Z" && state != "X"
}

// procStat reads a process's start time (in clock ticks after boot) and
// state from /proc/PID/stat: fields 22 and 3 (the command name, field 2,
// may hold spaces and parentheses).
func procStat(pid int) (uint64, string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return 0, "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return start, f[0], err
}

// saveMu serializes writes of state files.
var saveMu sync.Mutex

// saveState writes the cluster's state file atomically.
func (c *Cluster) saveState() error {
	st := State{
		Name: c.cfg.Name, Bridge: c.bridge, Subnet: c.cfg.Subnet + ".0/24", Dir: c.cfg.Dir,
		Fleetd: c.cfg.Fleetd, Owner: ProcessOf(os.Getpid()), AgentTTL: c.cfg.AgentTTL.String(),
		Reconcile: c.cfg.Reconcile.String(), Etcd: c.EtcdEndpoints(), TLS: c.tls,
	}
	for _, m := range c.Machines() {
		ms := MachineState{Hostname: m.Hostname, IP: m.IP, ID: m.ID, Metadata: m.MetadataString(),
			Member: m.Member, Endpoint: m.Endpoint(), Veth: m.Veth()}
		if pid := m.PID(); pid != 0 {
			ms.Systemd = ProcessOf(pid)
		}
		st.Machines = append(st.Machines, ms)
	}
	if len(st.Machines) > 0 {
		st.Endpoint = c.Endpoint()
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("cluster: state: %w", err)
	}
	saveMu.Lock()
	defer saveMu.Unlock()
	path := filepath.Join(c.cfg.Dir, StateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cluster: state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cluster: state: %w", err)
	}
	return nil
}

// ReadState reads the state file in dir; an error wrapping
// fs.ErrNotExist means there is no cluster there.
func ReadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", filepath.Join(dir, StateFile), err)
	}
	return &st, nil
}

// InUse returns the process that owns the cluster whose directory is
// dir, if it still runs: a lab must not be torn down under its owner.
func InUse(dir string) (Process, bool) {
	st, err := ReadState(dir)
	if err != nil || !st.Owner.Alive() {
		return Process{}, false
	}
	return st.Owner, true
}

// Teardown removes everything a cluster called name, with its directory
// dir, may have left on this host: it kills its machines if any still
// run (their processes, mounts and network namespaces go with them),
// removes their cgroups and work directories, the veths and the bridge,
// the machines' disks, the state file and the log. It is safe to call
// when nothing is left, and returns how many things it removed.
func Teardown(name, dir string) (int, error) {
	if !nameRE.MatchString(name) {
		return 0, fmt.Errorf("cluster: name %q: want 1-10 characters of [a-z0-9], starting with a letter", name)
	}
	n, err := nsboot.Sweep(name + "-")
	m, herr := removeHost(name, dir)
	return n + m, errors.Join(err, herr)
}

// removeHost removes the lab's interfaces on the host and its files.
func removeHost(name, dir string) (int, error) {
	names, err := links()
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	veth := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-[0-9]+p?$`)
	for _, l := range names {
		if veth.MatchString(l) || l == name+"0" {
			if err := delLink(l); err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	for _, p := range []string{"disks", TLSDir, StateFile, StateFile + ".tmp", LogFile} {
		path := filepath.Join(dir, p)
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if err := os.Remove(dir); err == nil {
		removed++
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("cluster: %w", err))
	}
	return removed, errors.Join(errs...)
}
