package fleetd

import (
	"context"
	"io"
	"log/slog"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogLevel is the least level fleetd logs at the given verbosity: info
// at 0, debug from 1.
func LogLevel(verbosity int) slog.Level {
	if verbosity >= 1 {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// NewLogger returns the logger c asks for (log_format, verbosity),
// writing to w.
func NewLogger(w io.Writer, c Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: LogLevel(c.Verbosity)}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// etcdLevel is the least level of etcd's logs fleetd keeps: warnings
// and errors, and from verbosity 2 etcd's info too.
func etcdLevel(verbosity int) zapcore.Level {
	if verbosity >= 2 {
		return zapcore.InfoLevel
	}
	return zapcore.WarnLevel
}

// etcdLogger returns a zap logger for etcd's code that writes its
// entries from level up through l, with component=etcd; nil l
// discards them.
func etcdLogger(l *slog.Logger, level zapcore.Level) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	return zap.New(&slogCore{LevelEnabler: level, log: l.With("component", "etcd")})
}

// slogCore is a zapcore.Core that writes zap's entries to a slog
// logger, so that etcd logs where and as fleetd does.
type slogCore struct {
	zapcore.LevelEnabler
	log *slog.Logger
}

// With returns a core whose entries carry fields.
func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{LevelEnabler: c.LevelEnabler, log: c.log.With(attrs(fields)...)}
}

// Check adds c to ce when e's level is enabled.
func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write logs e with its fields.
func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	args := attrs(fields)
	if e.LoggerName != "" {
		args = append(args, slog.String("logger", e.LoggerName))
	}
	c.log.Log(context.Background(), slogLevel(e.Level), e.Message, args...)
	return nil
}

// Sync has nothing to flush: the slog handler writes as it goes.
func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// attrs turns zap fields into slog attributes, through zap's own
// encoder into a map so that every field type reads as it would in zap.
func attrs(fields []zapcore.Field) []any {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	out := make([]any, 0, len(enc.Fields))
	for _, f := range fields { // in the order given, not the map's
		if v, ok := enc.Fields[f.Key]; ok {
			out = append(out, slog.Any(f.Key, v))
			delete(enc.Fields, f.Key)
		}
	}
	return out
}
