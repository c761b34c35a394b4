package fleetd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// sample returns the value of the series named exactly series (name and
// labels, in the text format's order) in a /metrics body, or -1.
func sample(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return f
		}
	}
	return -1
}

// A real fleetd, its embedded etcd and the in-memory systemd: a unit
// started, a start that hangs and is cancelled, a unit nowhere to go and
// a few API calls show in /metrics, with the Go, process and etcd
// metrics; its log carries component, machine and unit fields.
func TestMetricsScrape(t *testing.T) {
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	var logs syncBuffer
	sd := memsd.New()
	sd.Hang("hang.service")
	td := launchOpts(t, c, sd, Options{Version: "test", Logger: NewLogger(&logs, c)})
	td.waitReady(t, c)
	base := td.d.Endpoints()[1]
	cli, ctx := td.client(t), context.Background()
	eventually(t, "m1 registered", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 1
	})
	sleep := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}
	nowhere := append(sleep, unit.Option{Section: "X-Fleet", Name: "MachineID", Value: "no-such-machine"})
	for name, opts := range map[string][]unit.Option{"a.service": sleep, "hang.service": sleep, "nowhere.service": nowhere} {
		if err := cli.CreateUnit(ctx, &api.Unit{Name: name, Options: opts, DesiredState: "launched"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "a.service active, hang.service starting", 10*time.Second, func() bool {
		return len(sd.Active()) == 1 && sd.Starts("hang.service") == 1
	})
	if err := cli.SetUnitTargetState(ctx, "hang.service", "inactive"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Unit(ctx, "no-such.service"); err == nil {
		t.Fatal("a unit that does not exist was found")
	}
	if _, err := cli.Status(ctx, "a.service", "m1"); err == nil {
		t.Fatal("a status read without an inspector")
	}
	want := map[string]float64{
		`fleetd_agent_registered`:                                                         1,
		`fleetd_engine_leader`:                                                            1,
		`fleetd_engine_unscheduled_units`:                                                 1,
		`fleetd_agent_jobs_total{kind="start",result="done"}`:                             1,
		`fleetd_agent_jobs_total{kind="start",result="canceled"}`:                         1,
		`fleetd_agent_jobs_total{kind="stop",result="done"}`:                              1,
		`fleetd_agent_units{state="active"}`:                                              1,
		`fleetd_api_requests_total{code="404",method="GET",route="/units/{name}"}`:        1,
		`fleetd_api_requests_total{code="204",method="PUT",route="/units/{name}"}`:        1,
		`fleetd_api_request_duration_seconds_count{method="PUT",route="/units/{name}"}`:   4,
		`fleetd_api_requests_total{code="501",method="GET",route="/units/{name}/status"}`: 1,
		`fleetd_agent_publish_failures_total`:                                             0,
		`fleetd_registry_corrupt_records_total`:                                           0,
		`fleetd_build_info{version="test"}`:                                               1,
		`etcd_server_has_leader`:                                                          1,
	}
	atLeast := []string{
		`fleetd_engine_reconcile_duration_seconds_count`,
		`fleetd_engine_plan_actions_total{kind="schedule"}`,
		`fleetd_engine_commits_total{result="applied"}`,
		`fleetd_engine_leader_changes_total`,
		`fleetd_agent_job_duration_seconds_count{kind="start"}`,
		`fleetd_agent_job_duration_seconds_count{kind="stop"}`,
		`go_goroutines`,
		`process_start_time_seconds`,
		`etcd_mvcc_put_total`,
	}
	present := []string{ // may be 0: a commit refused as stale is no fault here
		`fleetd_engine_commits_total{result="stale"}`,
		`fleetd_engine_commits_total{result="not-leader"}`,
		`fleetd_engine_commits_total{result="failed"}`,
		`fleetd_engine_plan_actions_total{kind="move"}`,
	}
	var wrong []string
	check := func() bool {
		body, _ := get(t, base+"/metrics")
		wrong = nil
		for series, v := range want {
			if got := sample(body, series); got != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v", series, got, v))
			}
		}
		for _, series := range atLeast {
			if got := sample(body, series); got < 1 {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want 1 or more", series, got))
			}
		}
		// hang.service was activating until stopped: its state is gone.
		if got := sample(body, `fleetd_agent_units{state="activating"}`); got != -1 {
			wrong = append(wrong, fmt.Sprintf("units activating = %v, want none", got))
		}
		for _, series := range present {
			if sample(body, series) < 0 {
				wrong = append(wrong, series+" missing")
			}
		}
		return len(wrong) == 0
	}
	for deadline := time.Now().Add(10 * time.Second); !check() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range wrong {
		t.Error(w)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="request failed" component=api method=GET path=/fleet/v1/units/a.service/status`) ||
		!strings.Contains(logs.String(), `unit=a.service machine=m1`) {
		t.Errorf("the failed status read is not logged with its unit and machine:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `level=INFO msg=leading component=engine machine=m1`) {
		t.Errorf("the engine's leadership is not logged with its machine:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `component=agent machine=m1 unit=hang.service job=start result=canceled`) {
		t.Errorf("the cancelled start is not logged with its unit and machine:\n%s", logs.String())
	}
}
