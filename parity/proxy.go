package parity

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// proxy forwards TCP connections from a loopback address to target, and
// can cut them all (a machine cut off from etcd) and heal.
type proxy struct {
	addr   string
	target string

	mu    sync.Mutex
	l     net.Listener
	conns []net.Conn
}

// newProxy listens on a free loopback port and forwards to target.
func newProxy(target string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("parity: proxy: %w", err)
	}
	p := &proxy{addr: l.Addr().String(), target: target, l: l}
	go p.accept(l)
	return p, nil
}

// heal listens again on the same address.
func (p *proxy) heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		return nil
	}
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("parity: proxy heal: %w", err)
	}
	p.l = l
	go p.accept(l)
	return nil
}

func (p *proxy) accept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
