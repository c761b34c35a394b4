package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNoSpace says etcd raised its no-space alarm: its database reached
// its backend quota, and it refuses every write until an operator frees
// space and disarms the alarm.
var ErrNoSpace = errors.New("registry: etcd is out of space")

// NoSpaceHelp tells an operator how to recover from ErrNoSpace.
const NoSpaceHelp = "remove what filled it (etcdctl del), then compact (etcdctl compact REV), " +
	"defragment (etcdctl defrag) and disarm the alarm (etcdctl alarm disarm); " +
	"see \"etcd out of space\" in fleet's README"

// writeErr wraps the failure of a write, telling etcd's no-space refusal
// apart with its remedy.
func (r *Etcd) writeErr(what string, err error) error {
	if isNoSpace(err) {
		return fmt.Errorf("%w: %s refused: %s (%w)", ErrNoSpace, what, NoSpaceHelp, err)
	}
	return fmt.Errorf("registry: %s: %w", what, err)
}

func isNoSpace(err error) bool {
	return errors.Is(err, rpctypes.ErrNoSpace) || errors.Is(err, rpctypes.ErrGRPCNoSpace) ||
		err != nil && strings.Contains(err.Error(), "database space exceeded")
}

// CheckSpace returns an error wrapping ErrNoSpace, naming the member,
// while etcd's no-space alarm is raised; nil otherwise.
func (r *Etcd) CheckSpace(ctx context.Context) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.AlarmList(ctx)
	if err != nil {
		return fmt.Errorf("registry: list etcd alarms: %w", err)
	}
	for _, a := range resp.Alarms {
		if a.Alarm == pb.AlarmType_NOSPACE {
			return fmt.Errorf("%w: alarm NOSPACE raised by member %x: %s", ErrNoSpace, a.MemberID, NoSpaceHelp)
		}
	}
	return nil
}

// ReclaimSpace is the recovery from ErrNoSpace once what filled etcd is
// removed: it compacts the history up to the current revision,
// defragments the members the client was given (etcd_servers, or the
// embedded one; others with etcdctl defrag --cluster), and disarms the
// alarms raised.
func (r *Etcd) ReclaimSpace(ctx context.Context) error {
	resp, err := r.cli.Get(ctx, r.k.changed())
	if err != nil {
		return fmt.Errorf("registry: reclaim space: read revision: %w", err)
	}
	if _, err := r.cli.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil &&
		!errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("registry: reclaim space: compact: %w", err)
	}
	for _, ep := range r.cli.Endpoints() {
		if _, err := r.cli.Defragment(ctx, ep); err != nil {
			return fmt.Errorf("registry: reclaim space: defragment %s: %w", ep, err)
		}
	}
	// The zero member disarms every alarm raised.
	if _, err := r.cli.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		return fmt.Errorf("registry: reclaim space: disarm: %w", err)
	}
	return nil
}
