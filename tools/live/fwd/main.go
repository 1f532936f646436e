// live-fwd copies bytes between a listener and a target, each `tcp:HOST:PORT` or `unix:PATH`.
//
// The live stack's pods run in network namespaces of their own, while kube-apiserver listens on a
// loopback address of the root namespace. Unix sockets are files, so they cross network namespaces:
// one live-fwd in the root namespace listens on a unix socket and connects to the API server's
// loopback port; one inside each pod's namespace listens on that namespace's loopback and connects to
// the socket. All traffic stays on loopback addresses and a unix socket.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
)

func split(addr string) (string, string) {
	network, rest, ok := strings.Cut(addr, ":")
	if !ok || (network != "tcp" && network != "unix") {
		fmt.Fprintf(os.Stderr, "live-fwd: %q is neither tcp:HOST:PORT nor unix:PATH\n", addr)
		os.Exit(2)
	}
	return network, rest
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: live-fwd LISTEN TARGET (each tcp:HOST:PORT or unix:PATH)")
		os.Exit(2)
	}
	ln, la := split(os.Args[1])
	tn, ta := split(os.Args[2])
	if ln == "unix" {
		_ = os.Remove(la)
	}
	l, err := net.Listen(ln, la)
	if err != nil {
		fmt.Fprintf(os.Stderr, "live-fwd: listen %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "live-fwd: %s -> %s\n", os.Args[1], os.Args[2])
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "live-fwd: accept: %v\n", err)
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			t, err := net.Dial(tn, ta)
			if err != nil {
				fmt.Fprintf(os.Stderr, "live-fwd: dial %s: %v\n", os.Args[2], err)
				return
			}
			defer t.Close()
			var wg sync.WaitGroup
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
			go pipe(t, c)
			go pipe(c, t)
			wg.Wait()
		}()
	}
}
