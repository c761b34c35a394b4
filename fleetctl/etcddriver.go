package fleetctl

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
)

// dialEtcd connects to etcd at --endpoint and serves fleet's API over
// the registry under --etcd-key-prefix, in process: the etcd driver then
// checks and answers exactly as fleetd would. etcd is reached with
// through, when it is not nil.
func dialEtcd(ctx context.Context, g *globals, debug io.Writer, through dialFunc) (*conn, error) {
	tlsCfg, err := tlsConfig(g)
	if err != nil {
		return nil, err
	}
	cfg := clientv3.Config{
		Endpoints:   strings.Split(g.endpoint, ","),
		DialTimeout: g.timeout(),
		TLS:         tlsCfg,
		Logger:      zap.NewNop(),
	}
	if through != nil {
		cfg.DialOptions = []grpc.DialOption{grpc.WithContextDialer(etcdDialer(through))}
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, &ReachError{Endpoint: endpointName(g), What: "etcd", Err: err}
	}
	reg := registry.New(cli, g.etcdKeyPrefix)
	if err := pingEtcd(ctx, cli, reg.Prefix(), g); err != nil {
		cli.Close()
		if why := tlsTrouble(ctx, g.endpoint, tlsCfg, through); why != nil {
			return nil, &ReachError{Endpoint: endpointName(g), What: "etcd", Err: why}
		}
		return nil, err
	}
	// One copy of the cluster serves every page of this invocation's
	// listings; it is followed, so a command that waits sees changes.
	listing := reg.NewListing(0)
	closeAll := func() error { listing.Close(); return cli.Close() }
	var rt http.RoundTripper = handlerTransport{h: api.NewServer(reg, api.Options{Lister: listing})}
	if debug != nil {
		rt = debugTransport{next: rt, w: debug}
	}
	c, err := api.NewClient("http://etcd.driver", &http.Client{Transport: rt, Timeout: g.timeout()})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("etcd driver: %w", err)
	}
	return &conn{
		Cluster:  reachable{c: c, endpoint: endpointName(g), what: "etcd"},
		endpoint: g.endpoint,
		schedule: func(ctx context.Context) ([]registry.Placement, error) {
			ps, err := reg.Schedule(ctx)
			return ps, reachability(endpointName(g), "etcd", err)
		},
		close: closeAll,
	}, nil
}

// etcdDialer dials the addresses etcd's client gives gRPC (host:port, or
// unix:PATH for a unix endpoint) with through.
func etcdDialer(through dialFunc) func(context.Context, string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		if path, ok := strings.CutPrefix(addr, "unix:"); ok {
			return through(ctx, "unix", strings.TrimPrefix(path, "//"))
		}
		return through(ctx, "tcp", addr)
	}
}

// pingEtcd reads one key under prefix, so that an etcd that does not
// answer is reported once, naming the endpoint.
func pingEtcd(ctx context.Context, cli *clientv3.Client, prefix string, g *globals) error {
	if t := g.timeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if _, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		return &ReachError{Endpoint: endpointName(g), What: "etcd", Err: err}
	}
	return nil
}

// handlerTransport answers requests with an http.Handler in process.
// The answer is streamed: RoundTrip returns once the handler has sent its
// header, and the body is read as the handler writes it (a followed
// journal, forwarded to a machine's fleetd, never ends by itself).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, pw: pw, begun: make(chan struct{})}
	resp := &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: pr, ContentLength: -1, Request: req}
	go func() {
		defer pw.Close()
		defer func() {
			if req.Body != nil {
				req.Body.Close()
			}
		}()
		t.h.ServeHTTP(rw, req)
		rw.WriteHeader(http.StatusOK)
		// Declared trailers are read once the body ends, after this.
		resp.Trailer = rw.trailer()
	}()
	select {
	case <-rw.begun:
	case <-req.Context().Done():
		pr.Close()
		return nil, req.Context().Err()
	}
	resp.StatusCode = rw.code
	resp.Status = fmt.Sprintf("%d %s", rw.code, http.StatusText(rw.code))
	resp.Header = rw.sent
	return resp, nil
}

// pipeWriter is the http.ResponseWriter of handlerTransport: the header
// as sent is kept apart from the one the handler may still change (its
// trailers), and the body goes into a pipe.
type pipeWriter struct {
	header http.Header
	sent   http.Header
	code   int
	pw     *io.PipeWriter
	begun  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code, w.sent = code, w.header.Clone()
	close(w.begun)
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(p)
}

// Flush does nothing: every write already waits for its reader.
func (w *pipeWriter) Flush() {}

// trailer returns the declared trailers the handler set.
func (w *pipeWriter) trailer() http.Header {
	out := http.Header{}
	for _, names := range w.sent.Values("Trailer") {
		for _, k := range strings.Split(names, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if v, ok := w.header[k]; ok {
				out[k] = v
			}
		}
	}
	return out
}
