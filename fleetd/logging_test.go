package fleetd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// syncBuffer is a bytes.Buffer several goroutines may log to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// etcd's zap entries reach fleetd's slog logger from the level asked
// for, with their fields, as component=etcd.
func TestEtcdLogsGoThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	c := Defaults()
	c.LogFormat = "json"
	z := etcdLogger(NewLogger(&buf, c), etcdLevel(c.Verbosity)).With(zap.String("local-member-id", "8e9e05c52164694d"))
	z.Info("not kept at verbosity 0")
	z.Warn("slow fdatasync", zap.Duration("took", 1500e6), zap.Int("count", 3))
	z.Error("lost leader", zap.Error(errors.New("boom")))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the warning and the error alone, got:\n%s", buf.String())
	}
	var warn, failed map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &warn); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &failed); err != nil {
		t.Fatal(err)
	}
	if warn["level"] != "WARN" || warn["msg"] != "slow fdatasync" || warn["component"] != "etcd" ||
		warn["local-member-id"] != "8e9e05c52164694d" || warn["took"] != 1.5e9 || warn["count"] != 3.0 {
		t.Errorf("warning: %v", warn)
	}
	if failed["level"] != "ERROR" || failed["error"] != "boom" {
		t.Errorf("error: %v", failed)
	}
	if etcdLevel(2) != zapcore.InfoLevel {
		t.Errorf("verbosity 2 keeps etcd's info")
	}
}

func TestLoggerFormatAndVerbosity(t *testing.T) {
	var buf bytes.Buffer
	c := Defaults()
	NewLogger(&buf, c).Debug("hidden")
	NewLogger(&buf, c).Info("shown", "component", "agent", "unit", "a.service")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, `level=INFO msg=shown component=agent unit=a.service`) {
		t.Errorf("text at verbosity 0: %q", got)
	}
	buf.Reset()
	c.LogFormat, c.Verbosity = "json", 1
	NewLogger(&buf, c).Debug("shown", "machine", "m1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["level"] != "DEBUG" || rec["machine"] != "m1" {
		t.Errorf("json at verbosity 1: %q, %v", buf.String(), err)
	}
}

// At verbosity 1 a real fleetd logs, in JSON, the plan that placed a
// unit and the job that started it, each with its component, unit and
// machine.
func TestDaemonLogsDecisionsAtDebug(t *testing.T) {
	c := testConfig(t, "m1")
	c.Verbosity, c.LogFormat = 1, "json"
	var logs syncBuffer
	td := launchOpts(t, c, memsd.New(), Options{Version: "test", Logger: NewLogger(&logs, c)})
	td.waitReady(t, c)
	cli, ctx := td.client(t), context.Background()
	eventually(t, "m1 registered", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 1
	})
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}
	if err := cli.CreateUnit(ctx, &api.Unit{Name: "a.service", Options: opts, DesiredState: "launched"}); err != nil {
		t.Fatal(err)
	}
	has := func(want map[string]any) bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			match := true
			for k, v := range want {
				match = match && rec[k] == v
			}
			if match {
				return true
			}
		}
		return false
	}
	eventually(t, "the plan and the job logged", 10*time.Second, func() bool {
		return has(map[string]any{"level": "DEBUG", "msg": "plan", "component": "engine", "unit": "a.service", "action": "schedule", "to": "m1"}) &&
			has(map[string]any{"level": "DEBUG", "msg": "job queued", "component": "agent", "machine": "m1", "unit": "a.service", "job": "start"})
	})
}
