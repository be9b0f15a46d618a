package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFromFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"PORTRAIT_ADDR":             "127.0.0.1:9999",
		"PORTRAIT_MAX_UPLOAD_BYTES": "1024",
		"PORTRAIT_TOKEN_TTL":        "15m",
		"PORTRAIT_DATA_DIR":         "/from/env",
	}
	cfg, err := parseConfig("serve", []string{"--data-dir", "/from/flag"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/flag" {
		t.Errorf("DataDir %q: a flag on the command line must win over the environment", cfg.DataDir)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.MaxUploadBytes != 1024 || cfg.TokenTTL != 15*time.Minute {
		t.Errorf("environment not applied: %+v", cfg)
	}
	bound, _ := net.ResolveTCPAddr("tcp", "127.0.0.1:43210")
	if !cfg.publicURLs(bound) || cfg.PublicURL != "http://127.0.0.1:43210" || cfg.ImageBaseURL != cfg.PublicURL {
		t.Errorf("PublicURL %q, ImageBaseURL %q: want both derived from the address bound", cfg.PublicURL, cfg.ImageBaseURL)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	_, err := parseConfig("serve", nil, func(k string) string {
		if k == "PORTRAIT_MAX_PIXELS" {
			return "lots"
		}
		return ""
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORTRAIT_MAX_PIXELS") {
		t.Fatalf("err = %v, want one naming PORTRAIT_MAX_PIXELS", err)
	}
}

func TestSharedDatabaseRequiresSecret(t *testing.T) {
	cfg := &config{DatabaseURL: "postgres://db/portrait", DataDir: t.TempDir(), LocalAccounts: true}
	if _, err := tokenIssuer(cfg, discardLogger()); err == nil || !strings.Contains(err.Error(), "PORTRAIT_JWT_SECRET") {
		t.Fatalf("err = %v: a node of a shared deployment must not invent its own secret", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStartRemovesStaleUploads: upload files left in <data>/tmp by a crash
// are removed at start once no request can still be using them.
func TestStartRemovesStaleUploads(t *testing.T) {
	data := t.TempDir()
	tmp := filepath.Join(data, "tmp")
	os.MkdirAll(tmp, 0o700)
	stale, fresh := filepath.Join(tmp, "upload-stale"), filepath.Join(tmp, "upload-fresh")
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	startServer(t, map[string]string{"PORTRAIT_DATA_DIR": data})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("an hour-old upload file survived the start (err %v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh upload file, maybe another process's, was removed: %v", err)
	}
}
