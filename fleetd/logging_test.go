package fleetd

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
