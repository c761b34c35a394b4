package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// forward sends a status or journal request to the fleetd of the machine
// it is about, marked with ForwardedHeader, and relays the answer as it
// comes: the status code and error of a refusal, the text and trailer of
// an answer. The client going away cancels the forwarded request.
func (s *server) forward(w http.ResponseWriter, r *http.Request, req remoteRequest) error {
	base, err := s.machineURL(r.Context(), req.machine)
	if err != nil {
		return err
	}
	follow := req.journal && req.opts.Follow
	ctx, cancel, stopped := s.remoteContext(r, follow)
	defer cancel()
	call := "status"
	if req.journal {
		call = "journal"
	}
	target := base + BasePath + "/units/" + escapeName(req.unit) + "/" + call + "?" + req.query()
	out, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("api: forward to machine %s: %w", req.machine, err)
	}
	by := s.opts.MachineID
	if by == "" {
		by = "none"
	}
	out.Header.Set(ForwardedHeader, by)
	resp, err := s.opts.Forwarder.Do(out)
	if err != nil {
		if r.Context().Err() != nil {
			return nil // the client went away
		}
		return errorf(http.StatusBadGateway, "cannot reach the fleetd of machine %s at %s: %w", req.machine, base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	sw := newStreamWriter(w)
	if follow {
		if err := sw.followed(s.opts.StreamIdle); err != nil {
			return err
		}
	}
	if _, err = io.Copy(sw, resp.Body); err != nil {
		err = errorf(http.StatusBadGateway, "the answer of the fleetd of machine %s was cut short: %w", req.machine, err)
	} else {
		err = trailerError(resp.Trailer)
	}
	return sw.end(r.Context(), stopped, err)
}

// machineURL returns the API URL that machine id publishes.
func (s *server) machineURL(ctx context.Context, id string) (string, error) {
	ms, err := s.b.Machines(ctx)
	if err != nil {
		return "", fmt.Errorf("api: list machines: %w", err)
	}
	for _, m := range ms {
		if m.ID != id {
			continue
		}
		if m.APIURL == "" {
			return "", errorf(http.StatusServiceUnavailable,
				"machine %s cannot be reached: its fleetd publishes no http:// API (it listens on a unix socket only; give it an http:// api_listen)", id)
		}
		u, err := url.Parse(m.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", errorf(http.StatusBadGateway, "machine %s publishes an API URL that is not http(s)://HOST[:PORT]: %q", id, m.APIURL)
		}
		return strings.TrimSuffix(m.APIURL, "/"), nil
	}
	return "", errorf(http.StatusServiceUnavailable, "machine %s is not in the cluster (is its fleetd running?)", id)
}
