// Command testop is the OpenID provider of Portrait's tests: zitadel/oidc's
// op package serving discovery, the key set (/keys), a token endpoint and
// userinfo as that library serves them, on loopback. Each test user is a
// client of the client-credentials grant (client id = subject), so a test
// gets a real access token, signed by the provider, from the real token
// endpoint. Beside those, /test/ endpoints let the tests register users,
// rotate the signing key, sign tokens with chosen claims, and count the
// requests each endpoint received.
//
// Usage: testop -addr 127.0.0.1:0 -state <file>. It prints "issuer <URL>"
// once it listens; the state file keeps its keys and users across
// restarts, so that a provider that went down comes back the same.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	state := flag.String("state", "", "file keeping keys and users across restarts")
	flag.Parse()
	if err := run(*addr, *state); err != nil {
		fmt.Fprintln(os.Stderr, "testop:", err)
		os.Exit(1)
	}
}

func run(addr, statePath string) error {
	st, err := loadStorage(statePath)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	issuer := "http://" + l.Addr().String()
	st.issuer = issuer
	provider, err := op.NewProvider(&op.Config{CryptoKey: st.cryptoKey()}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	addControl(mux, st)
	mux.Handle("/", provider)
	fmt.Println("issuer", issuer)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: st.counting(mux)}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
