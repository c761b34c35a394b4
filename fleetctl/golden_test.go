package fleetctl

import (
	"testing"
)

// The machines of the seeds' walkthrough: hello.service lands on
// 0acdd9bf.../10.0.2.15, the least loaded machine with the lowest ID.
func walkthroughMachines() []machineSpec {
	return []machineSpec{
		{id: "0acdd9bf3d1c4e5fa7b8c9d0e1f2a3b4", ip: "10.0.2.15", metadata: map[string]string{"region": "us-west", "disk": "ssd"}},
		{id: "113f16a7c0de4b1f8e2d3c4b5a697887", ip: "10.0.2.16", metadata: map[string]string{"region": "us-east"}},
		{id: "9e2c7d41b5a34f6c8d1e0f2a3b4c5d6e", ip: "10.0.2.17", metadata: map[string]string{"region": "us-east", "disk": "ssd"}},
	}
}

// The four machines of seed 004 (list-machines -l), all role=default.
func seed004Machines() []machineSpec {
	var out []machineSpec
	for _, m := range [][2]string{
		{"336043c3dba3e566192154d0544f626d", "10.58.9.85"},
		{"364cd1ff8ac5dc300e15c293544f7cec", "10.58.9.83"},
		{"93499a83f33431a60235662254573164", "10.58.9.86"},
		{"e3583575125c30bdf50d4473544f7eba", "10.58.9.82"},
	} {
		out = append(out, machineSpec{id: m[0], ip: m[1], metadata: map[string]string{"role": "default"}})
	}
	return out
}

// TestTranscripts runs every testdata/*.golden against two clusters on
// one etcd: three machines under fleet's default key prefix, reached
// through fleetd's API, and seed 004's four machines under /fleet,
// reached with --driver=etcd. Each transcript leaves its cluster empty.
func TestTranscripts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts seven fleetds")
	}
	api := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines())
	seed := startCluster(t, "/fleet", api.etcdURL, seed004Machines())
	apiEnv := transcriptEnv{cluster: api, environ: []string{"FLEETCTL_ENDPOINT=" + api.endpoint, "HOME=/home/core"}, workDir: "testdata/units"}
	etcdEnv := transcriptEnv{cluster: seed, environ: []string{"FLEETCTL_DRIVER=etcd", "FLEETCTL_ENDPOINT=" + seed.etcdURL, "HOME=/home/core"}, workDir: "testdata/004"}
	for _, tr := range []struct {
		name string
		env  transcriptEnv
	}{
		{"walkthrough", apiEnv},
		{"templates", apiEnv},
		{"global", apiEnv},
		{"plan", apiEnv},
		{"replace", apiEnv},
		{"json", apiEnv},
		{"errors", apiEnv},
		{"version", apiEnv},
		{"remote", apiEnv},
		{"seed004", etcdEnv},
	} {
		t.Run(tr.name, func(t *testing.T) {
			runTranscript(t, tr.name, tr.env)
			if left := tr.env.cluster.destroyAll(t); left > 0 {
				t.Errorf("the transcript left %d units in the cluster", left)
			}
		})
	}
	for _, tt := range []struct {
		name string
		env  transcriptEnv
		test func(*testing.T, transcriptEnv)
	}{
		{"follow", apiEnv, testFollow},
		{"etcd-driver-remote", etcdEnv, testEtcdDriverRemote},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, tt.env)
			tt.env.cluster.destroyAll(t)
		})
	}
}
