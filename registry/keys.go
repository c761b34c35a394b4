package registry

import (
	"path"
	"strings"
)

// DefaultPrefix is fleet's key prefix.
const DefaultPrefix = "/_coreos.com/fleet/"

// keys builds every key of the schema from one prefix.
//
//	<prefix>unit/<hash>                  unit body (options), stored once
//	<prefix>unitref/<hash>/<name>        job <name> refers to body <hash>
//	<prefix>job/<name>                   {"hash","desiredState"}
//	<prefix>schedule/<machine>/<name>    {"port"}: the unit runs there
//	<prefix>state/<name>/<machine>       systemd states, under the machine's lease
//	<prefix>machines/<machine>           {"id","publicIP","metadata"}, under its lease
//	<prefix>metadata/<machine>/<key>     metadata set at run time
//	<prefix>engine/leader                the engine election
type keys struct{ prefix string }

func newKeys(prefix string) keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	return keys{prefix: prefix}
}

func (k keys) body(hash string) string        { return k.prefix + "unit/" + hash }
func (k keys) bodies() string                 { return k.prefix + "unit/" }
func (k keys) ref(hash, name string) string   { return k.refs(hash) + name }
func (k keys) refs(hash string) string        { return k.prefix + "unitref/" + hash + "/" }
func (k keys) refsAll() string                { return k.prefix + "unitref/" }
func (k keys) job(name string) string         { return k.prefix + "job/" + name }
func (k keys) jobs() string                   { return k.prefix + "job/" }
func (k keys) schedule(machine string) string { return k.prefix + "schedule/" + machine + "/" }
func (k keys) scheduleAll() string            { return k.prefix + "schedule/" }
func (k keys) placement(machine, name string) string {
	return k.schedule(machine) + name
}
func (k keys) states() string                    { return k.prefix + "state/" }
func (k keys) state(name, machine string) string { return k.prefix + "state/" + name + "/" + machine }
func (k keys) machines() string                  { return k.prefix + "machines/" }
func (k keys) machine(id string) string          { return k.prefix + "machines/" + id }
func (k keys) metadata(id string) string         { return k.prefix + "metadata/" + id + "/" }
func (k keys) metadataAll() string               { return k.prefix + "metadata/" }
func (k keys) changed() string                   { return k.prefix + "engine/changed" }

// lastTwo splits ".../a/b" into a and b.
func lastTwo(key string) (string, string) {
	dir, b := path.Split(key)
	_, a := path.Split(strings.TrimSuffix(dir, "/"))
	return a, b
}
