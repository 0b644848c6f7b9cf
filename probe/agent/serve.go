package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ServeOptions say where and how to listen.
type ServeOptions struct {
	Addr     string // host:port
	CertFile string // TLS when both are set
	KeyFile  string
	// Ready is called with the bound address once the listener is open (":0" picks a
	// free port).
	Ready func(net.Addr)
}

// Serve listens and answers until ctx ends, then shuts down gracefully (running tests are
// cancelled by Close, not here).
func (a *Agent) Serve(ctx context.Context, o ServeOptions) error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("TLS needs both --tls-cert and --tls-key")
	}
	var tlsConf *tls.Config
	if o.CertFile != "" {
		// Load before listening, so a bad certificate stops the start-up, not the first client.
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate %s and key %s: %w", o.CertFile, o.KeyFile, err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         tlsConf,
	}
	if o.Ready != nil {
		o.Ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() {
		if o.CertFile != "" {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", o.Addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down the server on %s: %w", o.Addr, err)
	}
	return nil
}
