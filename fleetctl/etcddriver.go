package fleetctl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
)

// dialEtcd connects to etcd at --endpoint and serves fleet's API over
// the registry under --etcd-key-prefix, in process: the etcd driver then
// checks and answers exactly as fleetd would.
func dialEtcd(ctx context.Context, g *globals, debug io.Writer) (*conn, error) {
	tlsCfg, err := tlsConfig(g)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(g.endpoint, ","),
		DialTimeout: g.timeout(),
		TLS:         tlsCfg,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, &ReachError{Endpoint: g.endpoint, What: "etcd", Err: err}
	}
	reg := registry.New(cli, g.etcdKeyPrefix)
	if err := pingEtcd(ctx, cli, reg.Prefix(), g); err != nil {
		cli.Close()
		return nil, err
	}
	var rt http.RoundTripper = handlerTransport{h: api.NewServer(reg, api.Options{})}
	if debug != nil {
		rt = debugTransport{next: rt, w: debug}
	}
	c, err := api.NewClient("http://etcd.driver", &http.Client{Transport: rt, Timeout: g.timeout()})
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd driver: %w", err)
	}
	return &conn{
		Cluster:  reachable{c: c, endpoint: g.endpoint, what: "etcd"},
		endpoint: g.endpoint,
		schedule: func(ctx context.Context) ([]registry.Placement, error) {
			ps, err := reg.Schedule(ctx)
			return ps, reachability(g.endpoint, "etcd", err)
		},
		close: cli.Close,
	}, nil
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
		return &ReachError{Endpoint: g.endpoint, What: "etcd", Err: err}
	}
	return nil
}

// handlerTransport answers requests with an http.Handler in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.code, http.StatusText(rec.code)),
		StatusCode:    rec.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the http.ResponseWriter of handlerTransport.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
