package fleetd

import (
	"fmt"
	"net/http"
	"runtime"
)

// withRuntimeMetrics adds the Go runtime's figures to /metrics after
// fleetd's own: goroutines and heap, the first things to look at when a
// long-running fleetd grows (make soak samples them).
func withRuntimeMetrics(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		next(w, r)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		gauge := func(name, help string, v uint64) {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
		}
		gauge("go_goroutines", "Number of goroutines that currently exist.", uint64(runtime.NumGoroutine()))
		gauge("go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", ms.HeapInuse)
		gauge("go_memstats_sys_bytes", "Bytes obtained from the system.", ms.Sys)
	}
}
