package fleetd

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestMetricsCountGoroutines(t *testing.T) {
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	d := startDaemon(t, c)
	re := regexp.MustCompile(`(?m)^go_goroutines (\d+)$`)
	eventually(t, "go_goroutines after fleetd's figures", 10*time.Second, func() bool {
		body, code := get(t, d.d.Endpoints()[1]+"/metrics")
		m := re.FindStringSubmatch(body)
		if code != 200 || m == nil || !regexp.MustCompile(`(?m)^fleetd_agent_registered 1$`).MatchString(body) {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		// The agent, the engine, etcd and the API each run some.
		return n > 10
	})
}
