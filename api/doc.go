// Package api is fleet's HTTP API v1: the JSON interface that fleetd
// serves under /fleet/v1 and that fleetctl (and anything else speaking
// fleet's protocol) uses to submit, start, stop and destroy units, list
// machines and read what each machine's systemd reports.
//
// NewServer turns a Backend (the etcd registry, or anything with the same
// few methods) into an http.Handler; NewClient talks to it over TCP,
// TLS or a unix socket. The wire types in types.go are fleet's JSON,
// field for field, so fleet's own clients keep working.
//
// Listings are paged with fleet's opaque nextPageToken (the key of a
// page's last item). Given a Lister (fleetd gives a registry.Listing),
// unit and state pages are read from a watched copy of the cluster, and
// a Backend that is a MachinePager reads machine pages from the token
// on: a page then costs its length whatever the cluster's size.
//
// Beyond fleet's v1, and never called by fleet's own clients: a unit's
// status and journal on one machine (GET /units/<name>/status and
// /units/<name>/journal, see remote.go), answered by that machine's
// fleetd through an Inspector and forwarded there by any other fleetd;
// and each unit state's port. Client.Status and Client.Journal call them.
//
// A unit's options are checked as fleetctl checks a file (unit.NewFile):
// nothing systemd would read back differently is stored. A value sent
// continued over lines, each ending in a backslash (fleet 1.0's fleetctl
// sends them so), is read as systemd reads the file: joined
// (unit.JoinContinuations).
//
// Two rules hold for every request: a request that is refused changes nothing
// (every check runs before the first write), and every failure is
// answered as {"error":{"code":N,"message":"..."}} with a message that
// names the problem.
package api
