package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxAnswer bounds the size of one answer the client reads.
const maxAnswer = 64 << 20

// Client speaks fleet's API v1 to a fleetd. Its methods are safe for
// concurrent use.
type Client struct {
	hc   *http.Client
	base string // scheme://host[/path]/fleet/v1, escaped
}

// NewClient returns a client of the fleetd at endpoint: http://HOST:PORT,
// https://HOST:PORT (either with an optional path prefix) or
// unix:///path/to/fleet.sock. hc carries timeouts and TLS settings (nil
// for a default client); for a unix endpoint its Transport must be nil
// or an *http.Transport, which is copied with a dialer of the socket. It
// does no I/O.
func NewClient(endpoint string, hc *http.Client) (*Client, error) {
	if hc == nil {
		hc = &http.Client{}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("api: endpoint %q: %w", endpoint, err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("api: endpoint %q: want no user, query or fragment", endpoint)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("api: endpoint %q: no host", endpoint)
		}
		base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
		return &Client{hc: hc, base: base.String() + BasePath}, nil
	case "unix":
		sock := u.Host + u.Path
		if sock == "" {
			return nil, fmt.Errorf("api: endpoint %q: no socket path", endpoint)
		}
		uc, err := unixClient(hc, sock)
		if err != nil {
			return nil, err
		}
		// The host is never resolved: every connection goes to sock.
		return &Client{hc: uc, base: "http://fleet.sock" + BasePath}, nil
	}
	return nil, fmt.Errorf("api: endpoint %q: scheme %q: want http, https or unix", endpoint, u.Scheme)
}

// unixClient copies hc with a transport that dials the socket at sock.
func unixClient(hc *http.Client, sock string) (*http.Client, error) {
	var tr *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("api: a unix endpoint needs an *http.Transport, the client has a %T", t)
	}
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "unix", sock)
	}
	tr.Proxy = nil
	c := *hc
	c.Transport = tr
	return &c, nil
}

// escapeName escapes a unit name for a path segment, '@' included, as
// fleet's clients did.
func escapeName(name string) string {
	return strings.ReplaceAll(url.PathEscape(name), "@", "%40")
}

// call is one request: method, path below BasePath (escaped), query,
// body to send as JSON (nil for none) and where to decode the answer
// (nil to ignore it).
type call struct {
	method, path string
	query        url.Values
	in, out      any
}

// do runs c and returns the server's refusal as an *Error.
func (c *Client) do(ctx context.Context, k call) error {
	req, err := c.request(ctx, k)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("api: %s %s: %w", k.method, k.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("api: %s %s: %w", k.method, k.path, readError(resp))
	}
	if k.out == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	} else {
		err = json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(k.out)
	}
	if err != nil {
		return fmt.Errorf("api: %s %s: reading the answer: %w", k.method, k.path, err)
	}
	return nil
}

func (c *Client) request(ctx context.Context, k call) (*http.Request, error) {
	q := url.Values{}
	for key, vs := range k.query {
		q[key] = vs
	}
	q.Set("alt", "json")
	var body io.Reader
	if k.in != nil {
		b, err := json.Marshal(k.in)
		if err != nil {
			return nil, fmt.Errorf("api: %s %s: encode the request: %w", k.method, k.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.base+k.path+"?"+q.Encode(), body)
	if err != nil {
		return nil, fmt.Errorf("api: %s %s: %w", k.method, k.path, err)
	}
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// readError reads a refusal: the server's *Error when the body holds
// one, else an *Error made of the status and the start of the body.
func readError(resp *http.Response) *Error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var er ErrorResponse
	if err == nil && json.Unmarshal(b, &er) == nil && er.Error != nil && er.Error.Code != 0 {
		return er.Error
	}
	msg := strings.TrimSpace(string(b))
	if err != nil {
		msg = fmt.Sprintf("reading the answer: %v", err)
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &Error{Code: resp.StatusCode, Message: msg}
}

// collect reads every page of a listing, following nextPageToken. A
// server that hands out a token twice would loop forever; it is an error.
func collect[P, T any](ctx context.Context, c *Client, path string, query url.Values, items func(*P) ([]T, string)) ([]T, error) {
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	var all []T
	seen := map[string]bool{}
	for {
		var page P
		if err := c.do(ctx, call{method: http.MethodGet, path: path, query: q, out: &page}); err != nil {
			return nil, err
		}
		got, next := items(&page)
		all = append(all, got...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("api: GET %s: %w", path, errRepeatedToken)
		}
		seen[next] = true
		q.Set("nextPageToken", next)
	}
}

var errRepeatedToken = errors.New("the server repeated a page token")
