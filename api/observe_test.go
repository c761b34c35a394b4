package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

// Every answer is observed once, by its route's pattern (not the
// unit's name), method and status code.
func TestObserveEveryAnswerByRoute(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	f := newFixture(t, api.Options{Observe: func(route, method string, code int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if took <= 0 {
			t.Errorf("%s %s took %v", method, route, took)
		}
		seen = append(seen, fmt.Sprintf("%s %s %d", method, route, code))
	}})
	f.get("/fleet/v1/units")
	f.get("/fleet/v1/units/nope.service")
	f.do(http.MethodPost, "/fleet/v1/units", "", "")
	f.get("/healthz")
	f.get("/nowhere")
	want := []string{
		"GET /units 200",
		"GET /units/{name} 404",
		"POST /units 405",
		"GET /healthz 200",
		"GET other 404",
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, want) {
		t.Errorf("observed %q, want %q", seen, want)
	}
}
