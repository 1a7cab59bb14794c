package server

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// --listen with an IPv4 and an IPv6 address binds both on one port.
func TestListenBothFamilies(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	e := newEnv(t, []string{"--listen", "127.0.0.1,::1", "--port", strconv.Itoa(port)}, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- e.srv.ListenAndServe(ctx, func(a []net.Addr) { ready <- a }) }()
	select {
	case addrs := <-ready:
		if len(addrs) != 2 {
			t.Fatalf("addrs %v", addrs)
		}
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		resp, err := http.Get("http://" + host + ":" + strconv.Itoa(port) + "/prompt")
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", host, resp.StatusCode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
