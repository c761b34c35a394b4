package fleetctl

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a buffer that one goroutine writes while another reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// follow runs fleetctl with args until its output has n "following"
// lines, then interrupts it as Ctrl-C would, and returns its exit code
// and output.
func follow(t *testing.T, env transcriptEnv, n int, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, stdio{in: strings.NewReader(""), out: &stdout, err: &stderr}, env.environ,
			options{poll: 50 * time.Millisecond, workDir: env.workDir})
	}()
	eventually(t, "the journals to be followed", 20*time.Second, func() bool {
		return strings.Count(stdout.String(), "following\n") == n
	})
	cancel()
	select {
	case code := <-done:
		return code, stdout.String(), stderr.String()
	case <-time.After(10 * time.Second):
		t.Fatalf("fleetctl %s goes on after the interrupt", strings.Join(args, " "))
	}
	return 0, "", ""
}

// sortedLines returns text's lines, sorted.
func sortedLines(text string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// testFollow follows journals until interrupted: one machine's, then a
// global unit's on every machine at once, each line with its machine.
func testFollow(t *testing.T, env transcriptEnv) {
	if out := runOnce([]string{"start", "hello.service", "monitor.service"}, env); strings.Contains(out, "[exit") {
		t.Fatal(out)
	}
	env.cluster.settle(t)
	code, stdout, stderr := follow(t, env, 1, "journal", "-f", "--lines=1", "hello.service")
	want := "Jan 01 00:00:20 0acdd9bf hello.service[1]: entry 20\nJan 01 00:01:00 0acdd9bf hello.service[1]: following\n"
	if code != ExitOK || stdout != want || stderr != "" {
		t.Errorf("journal -f hello.service: exit %d, stdout %q, stderr %q; want stdout %q", code, stdout, stderr, want)
	}
	code, stdout, stderr = follow(t, env, 3, "journal", "--follow", "--lines=1", "monitor.service")
	want = sortedLines(`[0acdd9bf.../10.0.2.15] Jan 01 00:00:20 0acdd9bf monitor.service[1]: entry 20
[0acdd9bf.../10.0.2.15] Jan 01 00:01:00 0acdd9bf monitor.service[1]: following
[113f16a7.../10.0.2.16] Jan 01 00:00:20 113f16a7 monitor.service[1]: entry 20
[113f16a7.../10.0.2.16] Jan 01 00:01:00 113f16a7 monitor.service[1]: following
[9e2c7d41.../10.0.2.17] Jan 01 00:00:20 9e2c7d41 monitor.service[1]: entry 20
[9e2c7d41.../10.0.2.17] Jan 01 00:01:00 9e2c7d41 monitor.service[1]: following
`)
	if got := sortedLines(stdout); code != ExitOK || got != want || stderr != "" {
		t.Errorf("journal -f monitor.service: exit %d, stderr %q, lines\n%s\nwant\n%s", code, stderr, got, want)
	}
}

// testEtcdDriverRemote reads status and journal with the etcd driver:
// fleetctl's in-process API forwards them to the machine's fleetd.
func testEtcdDriverRemote(t *testing.T, env transcriptEnv) {
	if out := runOnce([]string{"--etcd-key-prefix=/fleet", "start", "wys-wpa@1.service"}, env); strings.Contains(out, "[exit") {
		t.Fatal(out)
	}
	env.cluster.settle(t)
	got := runOnce([]string{"--etcd-key-prefix=/fleet", "status", "wys-wpa@1.service"}, env)
	if want := "● wys-wpa@1.service\n     Loaded: loaded (/run/fleet/units/wys-wpa@1.service; linked-runtime)\n     Active: active (running)\n    Machine: e3583575125c30bdf50d4473544f7eba\n"; got != want {
		t.Errorf("status with the etcd driver:\n%s\nwant\n%s", got, want)
	}
	code, stdout, stderr := follow(t, env, 1, "--etcd-key-prefix=/fleet", "journal", "-f", "--lines=2", "wys-wpa@1")
	if code != ExitOK || strings.Count(stdout, "\n") != 3 || stderr != "" {
		t.Errorf("journal -f with the etcd driver: exit %d, %q, %q", code, stdout, stderr)
	}
}
