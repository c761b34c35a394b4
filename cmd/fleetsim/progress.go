package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/fleetsim/fleet/sim"
	"github.com/fleetsim/fleet/sim/report"
)

// progressEvery is how many events pass between two progress callbacks.
const progressEvery = 1 << 16

// Wall-clock spacing of progress redraws and memory samples.
const (
	drawEvery   = 100 * time.Millisecond
	sampleEvery = 250 * time.Millisecond
)

// progress draws a single updating line on a terminal while the world
// runs, and samples memory use whether it draws or not. It is the only
// place, with the summary's timings, that reads the wall clock.
type progress struct {
	w     io.Writer
	draw  bool
	drawn bool
	until time.Duration

	start, lastDraw, lastSample time.Time
	stop                        time.Time
	cpuStart, cpu               time.Duration // process CPU time at begin, and used since
	mem                         memory
}

// memory is the memory use of the process, from runtime.MemStats and, on
// Linux, the kernel's peak resident set.
type memory struct {
	PeakHeap uint64 // the largest HeapAlloc sampled
	Sys      uint64 // bytes obtained from the OS by the end
	PeakRSS  uint64 // VmHWM, 0 where unknown
}

func newProgress(w io.Writer, draw bool, until time.Duration) *progress {
	return &progress{w: w, draw: draw, until: until}
}

func (p *progress) begin() {
	p.start, p.cpuStart = time.Now(), cpuTime()
	p.lastDraw, p.lastSample = p.start, p.start
	p.sample()
}

// update is the world's progress callback.
func (p *progress) update(pr sim.Progress) {
	now := time.Now()
	if now.Sub(p.lastSample) >= sampleEvery {
		p.lastSample = now
		p.sample()
	}
	if !p.draw || now.Sub(p.lastDraw) < drawEvery {
		return
	}
	p.lastDraw, p.drawn = now, true
	pct := 100 * float64(pr.Now) / float64(p.until)
	rate := float64(pr.Events) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[K  %s of %s  %5.1f%%  %s events  %s events/s  heap %s",
		report.Duration(pr.Now.Truncate(time.Second)), report.Duration(p.until), pct,
		compactCount(float64(pr.Events)), compactCount(rate), mib(p.mem.PeakHeap))
}

// end clears the progress line and takes the final measures.
func (p *progress) end() {
	p.stop, p.cpu = time.Now(), cpuTime()-p.cpuStart
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.sample()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.mem.Sys = ms.Sys
	p.mem.PeakRSS = peakRSS()
}

func (p *progress) elapsed() time.Duration { return p.stop.Sub(p.start) }

func (p *progress) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.mem.PeakHeap = max(p.mem.PeakHeap, ms.HeapAlloc)
}

// peakRSS reads the process's peak resident set size from
// /proc/self/status; 0 when it cannot.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 2 && string(f[1]) == "kB" {
			if kb, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
