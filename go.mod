module github.com/fleetsim/fleet

go 1.26.0

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	pgregory.net/rapid v1.3.0
)
