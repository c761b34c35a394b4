package sim

import (
	"fmt"
	"time"

	"github.com/fleetsim/fleet/agent"
)

// Config sets the cluster's timings and the simulated world's behaviour.
// Zero fields take the defaults of DefaultConfig.
type Config struct {
	Seed uint64 // seeds every random choice of the run

	AgentTTL          time.Duration // machine lease TTL (fleet's agent_ttl)
	HeartbeatInterval time.Duration // how often an agent renews its lease
	EngineInterval    time.Duration // engine_reconcile_interval
	AgentInterval     time.Duration // periodic agent reconcile
	LeaderTTL         time.Duration // engine leader lease TTL

	Latency       time.Duration // one-way registry latency
	LatencyJitter time.Duration // uniform extra latency, 0..LatencyJitter
	HeartbeatLoss float64       // probability that a heartbeat is lost

	StartTime     time.Duration // time a unit takes from start to active
	StartJitter   time.Duration // uniform extra start time
	StartFailProb float64       // probability that a start fails
	CrashPerHour  float64       // rate at which a running unit crashes

	SampleInterval time.Duration // how often time series are sampled

	JobTimeout time.Duration // the agents' deadline for a start or stop job (agent.DefaultJobTimeout)
}

// agentStep is the agents' step configuration.
func (c Config) agentStep() agent.StepConfig {
	return agent.StepConfig{JobTimeout: c.JobTimeout}
}

// DefaultConfig returns fleet's defaults and a quick, reliable world.
func DefaultConfig() Config {
	return Config{
		Seed:              1,
		AgentTTL:          30 * time.Second,
		HeartbeatInterval: 10 * time.Second,
		EngineInterval:    2 * time.Second,
		AgentInterval:     5 * time.Second,
		LeaderTTL:         10 * time.Second,
		Latency:           2 * time.Millisecond,
		LatencyJitter:     3 * time.Millisecond,
		StartTime:         time.Second,
		StartJitter:       time.Second,
		SampleInterval:    10 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&c.AgentTTL, d.AgentTTL)
	fill(&c.HeartbeatInterval, d.HeartbeatInterval)
	fill(&c.EngineInterval, d.EngineInterval)
	fill(&c.AgentInterval, d.AgentInterval)
	fill(&c.LeaderTTL, d.LeaderTTL)
	fill(&c.SampleInterval, d.SampleInterval)
	fill(&c.StartTime, d.StartTime)
	return c
}

// Validate reports a configuration that cannot run.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.HeartbeatInterval >= c.AgentTTL:
		return fmt.Errorf("sim: heartbeat interval %v must be shorter than the agent TTL %v", c.HeartbeatInterval, c.AgentTTL)
	case c.HeartbeatLoss < 0 || c.HeartbeatLoss > 1:
		return fmt.Errorf("sim: heartbeat loss %v is not a probability", c.HeartbeatLoss)
	case c.StartFailProb < 0 || c.StartFailProb > 1:
		return fmt.Errorf("sim: start failure %v is not a probability", c.StartFailProb)
	case c.CrashPerHour < 0:
		return fmt.Errorf("sim: crash rate %v is negative", c.CrashPerHour)
	}
	return nil
}

// LivenessBound is how long after the last fault every schedulable unit
// must be running: the lease must expire, the leader (which may itself
// have died) must be re-elected and reconcile, the agent must notice and
// the unit must start.
func (c Config) LivenessBound() time.Duration {
	c = c.withDefaults()
	net := 8 * (c.Latency + c.LatencyJitter)
	return c.AgentTTL + c.LeaderTTL + 2*c.EngineInterval + c.AgentInterval +
		c.StartTime + c.StartJitter + net
}
