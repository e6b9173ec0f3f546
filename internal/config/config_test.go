package config

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestLoadPrecedenceAndErrors(t *testing.T) {
	t.Setenv("PLUGBOARD_ADDR", "127.0.0.1:9000")
	t.Setenv("PLUGBOARD_REQUEST_TIMEOUT", "5s")
	t.Setenv("PLUGBOARD_MEMORY_LIMIT", "64MiB") // the default is none
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:9100", "--outbound-allow", "10.0.0.0/8,192.168.1.5"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" || c.RequestTimeout != 5*time.Second || c.MemoryLimit != 64<<20 || c.DatabaseURL != DefaultDatabaseURL {
		t.Errorf("flags win over the environment, which wins over defaults: %+v", c)
	}
	if c.StatementCache != "prepare" {
		t.Errorf("statements are prepared by default: %q", c.StatementCache)
	}
	if c.DrainDelay != 5*time.Second || c.ShutdownTimeout != 20*time.Second {
		t.Errorf("a stopping server fails /readyz for 5 s by default, then drains for up to 20 s: %v %v", c.DrainDelay, c.ShutdownTimeout)
	}
	if c.ShutdownGrace() != 20*time.Second {
		t.Errorf("a 5 s request timeout keeps the 20 s drain: %v", c.ShutdownGrace())
	}
	if c.RequestTimeout = 30 * time.Second; c.ShutdownGrace() != 32*time.Second {
		t.Errorf("the drain waits out the longest request deadline: %v", c.ShutdownGrace())
	}
	if len(c.Outbound.Allow) != 2 || c.Outbound.Allow[1].String() != "192.168.1.5/32" {
		t.Errorf("allow list: %v", c.Outbound.Allow)
	}
	if !c.Enabled(c.Playground) || c.Enabled("off") || !c.Enabled("on") {
		t.Error("auto is on with the SQLite default")
	}
	c.DatabaseURL = "postgres://x"
	if c.DirectURL() != "postgres://x" {
		t.Errorf("the direct URL defaults to the database URL: %q", c.DirectURL())
	}
	c.DatabaseDirectURL = "postgres://direct"
	if c.DirectURL() != "postgres://direct" {
		t.Errorf("direct URL: %q", c.DirectURL())
	}
	if c.Enabled("auto") || c.SecretKeyFile() != "" {
		t.Error("auto is off with PostgreSQL, which has no key file")
	}
	if c.PublicURL() != "http://127.0.0.1:9100" || c.EventRetention != 168*time.Hour || c.HookMaxBodyBytes != 1<<20 || c.MaxWebSockets != 1000 {
		t.Errorf("webhook URLs start with http:// + the address; events kept 7 days; 1 MiB deliveries; 1,000 sockets: %q %v %d %d",
			c.PublicURL(), c.EventRetention, c.HookMaxBodyBytes, c.MaxWebSockets)
	}
	t.Setenv("PLUGBOARD_PUBLIC_URL", "https://hooks.example.com/")
	if c, _ := Load(nil); c.PublicURL() != "https://hooks.example.com" {
		t.Errorf("PLUGBOARD_PUBLIC_URL, without its trailing slash: %q", c.PublicURL())
	}

	bad := map[string]string{
		"PLUGBOARD_REQUEST_TIMEOUT": "soon", "PLUGBOARD_MAX_DEPTH": "-1", "PLUGBOARD_MEMORY_LIMIT": "lots",
		"PLUGBOARD_OUTBOUND_ALLOW": "not-a-cidr", "PLUGBOARD_PLAYGROUND": "maybe", "PLUGBOARD_JWT_ALLOW_HMAC": "yes please",
		"PLUGBOARD_DRAIN_DELAY": "-1s", "PLUGBOARD_DB_STATEMENT_CACHE": "sometimes",
		"PLUGBOARD_PUBLIC_URL": "hooks.example.com", "PLUGBOARD_EVENT_RETENTION": "a week", "PLUGBOARD_HOOK_MAX_BODY_BYTES": "0",
		"PLUGBOARD_MAX_WEBSOCKETS": "0",
	}
	for name, value := range bad {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := Load(nil); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("want an error naming %s, got %v", name, err)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "80MiB": 80 << 20, "1GiB": 1 << 30, "512MB": 512e6, " 2 KiB ": 2048} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "MiB", "1.5GiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) must fail", in)
		}
	}
}

func TestConnectSettings(t *testing.T) {
	t.Setenv("PLUGBOARD_ADDR", "127.0.0.1:9000")
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL() != "http://127.0.0.1:9000" || len(c.ConnectRedirectOrigins) != 0 {
		t.Errorf("defaults: public URL %q, origins %v", c.PublicURL(), c.ConnectRedirectOrigins)
	}
	t.Setenv("PLUGBOARD_PUBLIC_URL", "https://plugboard.example.com/")
	t.Setenv("PLUGBOARD_CONNECT_REDIRECT_ORIGINS", "https://app.example.com, http://localhost:3000/")
	if c, err = Load(nil); err != nil {
		t.Fatal(err)
	}
	if c.PublicURL() != "https://plugboard.example.com" || strings.Join(c.ConnectRedirectOrigins, " ") != "https://app.example.com http://localhost:3000" {
		t.Errorf("public URL %q, origins %v", c.PublicURL(), c.ConnectRedirectOrigins)
	}
	for env, bad := range map[string]string{
		"PLUGBOARD_PUBLIC_URL":               "ftp://plugboard.example.com",
		"PLUGBOARD_CONNECT_REDIRECT_ORIGINS": "https://app.example.com/path",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := Load(nil); err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("%s=%s: %v", env, bad, err)
			}
		})
	}
}
