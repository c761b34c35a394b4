package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Status returns what `systemctl status` prints of unit name on machine
// machineID ("" for the one machine a non-global unit is scheduled on).
// It is an extension beyond fleet's v1 (see remote.go): a unit that is
// not scheduled there is a 404 *Error.
func (c *Client) Status(ctx context.Context, name, machineID string) (string, error) {
	var b strings.Builder
	q := url.Values{}
	if machineID != "" {
		q.Set("machineID", machineID)
	}
	err := c.stream(ctx, call{method: http.MethodGet, path: "/units/" + escapeName(name) + "/status", query: q}, &b)
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// Journal writes the journal of unit name on machine machineID ("" as
// with Status) to w as it arrives. With opts.Follow it returns only when
// ctx ends (an error wrapping ctx.Err()) or the stream fails. It is an
// extension beyond fleet's v1 (see remote.go).
func (c *Client) Journal(ctx context.Context, name, machineID string, opts JournalOptions, w io.Writer) error {
	q := url.Values{"lines": {strconv.Itoa(opts.Lines)}}
	if machineID != "" {
		q.Set("machineID", machineID)
	}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Output != "" {
		q.Set("output", opts.Output)
	}
	return c.stream(ctx, call{method: http.MethodGet, path: "/units/" + escapeName(name) + "/journal", query: q}, w)
}

// stream runs a call whose answer is text, copying it to w as it comes.
// The http.Client's timeout bounds the wait for the answer to begin, not
// its length: a followed journal lasts as long as ctx. A failure the
// server reports after the first byte (ErrorTrailer) is returned as an
// *Error.
func (c *Client) stream(ctx context.Context, k call, w io.Writer) error {
	req, err := c.request(ctx, k)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/plain, application/json")
	resp, err := c.begin(req)
	if err != nil {
		return fmt.Errorf("api: %s %s: %w", k.method, k.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("api: %s %s: %w", k.method, k.path, readError(resp))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("api: %s %s: %w", k.method, k.path, ctx.Err())
		}
		return fmt.Errorf("api: %s %s: the answer was cut short: %w", k.method, k.path, err)
	}
	if err := trailerError(resp.Trailer); err != nil {
		return fmt.Errorf("api: %s %s: %w", k.method, k.path, err)
	}
	return nil
}

// errNoAnswer is the cause of a request given up for want of an answer.
var errNoAnswer = errors.New("no answer")

// begin sends req and returns once the answer begins, within the
// client's timeout if it has one; the body is then read without it.
func (c *Client) begin(req *http.Request) (*http.Response, error) {
	hc := *c.hc
	hc.Timeout = 0
	if c.hc.Timeout <= 0 {
		return hc.Do(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(c.hc.Timeout, func() { cancel(errNoAnswer) })
	resp, err := hc.Do(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		if errors.Is(context.Cause(ctx), errNoAnswer) && req.Context().Err() == nil {
			return nil, fmt.Errorf("no answer within %v: %w", c.hc.Timeout, context.DeadlineExceeded)
		}
		cancel(nil)
		return nil, err
	}
	// The answer has begun: ctx lives on while its body is read, and is
	// cancelled once it is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose cancels a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
