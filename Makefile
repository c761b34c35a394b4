# fleet: a simulation-first distributed init system.
# `make demo` runs the main job, `make test` passes the tests.

GO            ?= go
BIN           := bin
export GOTOOLCHAIN := local
export GOFLAGS     := -buildvcs=false

.PHONY: all build test unit-test race parity lint fmt vet staticcheck bench bench-scale sim fuzz demo lab-up lab-down lab-check lab-bench vagrant-certs vagrant-box vagrant-test soak clean

all: build

## build: binaries into bin/, static (no cgo): they run as they are on
## Flatcar and on the Vagrant lab's VMs
build:
	@mkdir -p $(BIN)
	@pkgs=$$(ls -d cmd/*/ 2>/dev/null); \
	for p in $$pkgs; do echo "go build $$p"; CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./$$p || exit 1; done

## test: lint, then every test, then the race detector where goroutines live,
## then the scenarios replayed on the real stack
test: lint unit-test race parity

unit-test:
	$(GO) test -count=1 ./...

# Packages that start goroutines; the pure core does not, but one
# Scheduler may serve several goroutines, which one test checks.
RACE_PKGS ?= $(shell $(GO) list ./... | grep -E '/(fleetd|registry|agent|fleetctl|engine|api)(/|$$)' )
race:
	@if [ -n "$(RACE_PKGS)" ]; then $(GO) test -race -count=1 $(RACE_PKGS); else echo "race: no packages with goroutines yet"; fi
	$(GO) test -race -count=1 -run 'TestSchedulerSharedBetweenGoroutines' ./scheduler/

## parity: every scenario of sim/testdata replayed on fleetd's engine, agent
## and registry over a real etcd, in real time scaled down (PARITY_SCALE,
## default 1/10); ends with "parity: N scenarios, M same"
parity:
	@PARITY=1 $(GO) test -count=1 -v -parallel 16 -run 'TestParity$$' ./parity/ > parity.log 2>&1; rc=$$?; \
	grep -vE '^(=== |\s*--- (PASS|SKIP)|PASS$$|ok |parity:)|not measured on|parity_test.go:[0-9]+: [a-z-]+: ' parity.log; \
	grep '^parity:' parity.log; rm -f parity.log; exit $$rc

## lint: gofmt, go vet, staticcheck
lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck is pinned in go.mod as a tool (honnef.co/go/tools v0.8.2,
# the 2026.2.2 release): a fresh machine builds it from the module cache.
staticcheck:
	$(GO) tool staticcheck ./...

## bench: Go benchmarks (figures go to benchmarks/RESULTS.md)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./scheduler/ ./benchmarks/...

## bench-scale: the simulator at scale on one core (figures to benchmarks/RESULTS.md)
SCALE_FLAGS ?= --machines 10000 --units 100000 --seed 7 --kill 10% --kill-at 20m --duration 1h
bench-scale:
	@mkdir -p $(BIN) && $(GO) build -o $(BIN)/ ./cmd/fleetsim
	GOMAXPROCS=1 $(BIN)/fleetsim $(SCALE_FLAGS) --json

## sim: a default failover simulation, its report in sim-report.html
SIM_FLAGS ?= --machines 1000 --units 10000 --seed 7 --kill 10% --kill-at 10m --duration 30m
sim:
	@mkdir -p $(BIN) && $(GO) build -o $(BIN)/ ./cmd/fleetsim
	$(BIN)/fleetsim $(SIM_FLAGS) --report sim-report.html
	@echo "report: sim-report.html"

## fuzz: a short fuzzing run over the unit file parser and [X-Fleet] reader
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./unit/
	$(GO) test -run='^$$' -fuzz=FuzzRequirements -fuzztime=$(FUZZTIME) ./unit/

## demo: boot the local lab (root, Linux), walk fleet's story with fleetctl, tear it down
## (LAB_MACHINES=N machines, default 3; DEMO_KEEP=1 keeps the lab up afterwards)
LAB_MACHINES ?= 3
demo: build
	$(BIN)/fleetlab demo -machines $(LAB_MACHINES)

## lab-up: boot the local lab and leave it running; lab-down: remove all of it
lab-up: build
	$(BIN)/fleetlab up -machines $(LAB_MACHINES)

lab-down:
	@if [ -x $(BIN)/fleetlab ]; then $(BIN)/fleetlab down; else $(GO) run ./cmd/fleetlab down; fi

## lab-bench: the lab's figures (100 units started, failover), for benchmarks/RESULTS.md
lab-bench:
	LAB_BENCH=1 $(GO) test -count=1 -v -run 'TestBench' -timeout 15m ./lab/e2e/

## soak: a bounded churn on a lab of its own (submit, start, stop, destroy of
## distinct bodies; machines killed and booted again), etcd's database size,
## its key count, fleetd's RSS and goroutines sampled at the start, middle and
## end; fails when they keep growing (SOAK_DURATION, default 5m; root, Linux)
SOAK_DURATION ?= 5m
soak: build
	SOAK=1 SOAK_DURATION=$(SOAK_DURATION) $(GO) test -count=1 -v -run 'TestSoak$$' -timeout 0 ./lab/soak/

## vagrant-certs: the Vagrant lab's CA and certificates, in .vagrant/fleet-tls
## (kept if there; LAB_SUBNET as the Vagrantfile's)
VAGRANT_SUBNET ?= $(or $(LAB_SUBNET),172.17.8)
vagrant-certs:
	$(GO) run ./lab/vagrant/vagrantcerts $(or $(FLEET_TLS_DIR),.vagrant/fleet-tls) \
		core-01=$(VAGRANT_SUBNET).101 core-02=$(VAGRANT_SUBNET).102 core-03=$(VAGRANT_SUBNET).103

## vagrant-box: the Vagrant lab's local box (Debian 12 from Debian's
## packages, for libvirt), cached; prints its directory (FLEET_BOX_DIR)
vagrant-box:
	@lab/vagrant/box/build.sh

## vagrant-test: the Vagrant lab for real: three VMs from the local box
## under libvirt (QEMU's emulation where KVM cannot run guests), fleetd in
## each, checked through bin/fleetctl; destroyed at the end (about 20 min)
vagrant-test: build vagrant-certs
	box=$$(lab/vagrant/box/build.sh) && VAGRANT_TEST=1 FLEET_BOX_DIR=$$box \
		$(GO) test -count=1 -v -timeout 60m -run 'TestVagrantCluster$$' ./lab/vagrant/

## lab-check: the Vagrant lab's checks alone (also part of make test)
lab-check:
	$(GO) test -count=1 -v ./lab/vagrant/

clean:
	rm -rf $(BIN)
