// Package config reads Plugboard's settings from the environment.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything the binary needs to run.
type Config struct {
	// Addr is where `serve` listens (PLUGBOARD_ADDR).
	Addr string
	// DatabaseURL selects the database (PLUGBOARD_DATABASE_URL): postgres://… for PostgreSQL,
	// otherwise a SQLite file path.
	DatabaseURL string
	// MaxOpenConns bounds the database pool (PLUGBOARD_DB_MAX_CONNS); 0 picks a default.
	MaxOpenConns int
	// KeyCacheTTL is how long a verified API key is trusted without a database read
	// (PLUGBOARD_KEY_CACHE_TTL); revocations on other replicas take effect within it.
	KeyCacheTTL time.Duration
	// LogLevel is debug, info, warn or error (PLUGBOARD_LOG_LEVEL).
	LogLevel string
	// SecretKey is the base64 AES-256 key that seals credential values (PLUGBOARD_SECRET_KEY).
	// Empty with SQLite: a key file next to the database is used, created on first start.
	SecretKey string
	// RetiredSecretKeys are comma-separated base64 keys still accepted for decryption while
	// `plugboard secrets rotate` re-encrypts with SecretKey (PLUGBOARD_RETIRED_SECRET_KEYS).
	RetiredSecretKeys string
}

// Defaults of the contract.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultDatabaseURL = "plugboard.db"
)

// FromEnv reads the configuration, applying defaults; a malformed value is an error naming the
// variable.
func FromEnv() (Config, error) {
	c := Config{
		Addr:        getenv("PLUGBOARD_ADDR", DefaultAddr),
		DatabaseURL: getenv("PLUGBOARD_DATABASE_URL", DefaultDatabaseURL),
		KeyCacheTTL: 5 * time.Second,
		LogLevel:    getenv("PLUGBOARD_LOG_LEVEL", "info"),

		SecretKey:         os.Getenv("PLUGBOARD_SECRET_KEY"),
		RetiredSecretKeys: os.Getenv("PLUGBOARD_RETIRED_SECRET_KEYS"),
	}
	if v := os.Getenv("PLUGBOARD_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("PLUGBOARD_DB_MAX_CONNS: %q is not a non-negative integer", v)
		}
		c.MaxOpenConns = n
	}
	if v := os.Getenv("PLUGBOARD_KEY_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("PLUGBOARD_KEY_CACHE_TTL: %q is not a duration such as 5s", v)
		}
		c.KeyCacheTTL = d
	}
	return c, nil
}

// SecretKeyFile is where the embedded default keeps its generated key: next to the SQLite
// database file. It is empty for PostgreSQL, whose replicas must share a configured key.
func (c Config) SecretKeyFile() string {
	u := c.DatabaseURL
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return ""
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "file:")
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if u == "" || strings.Contains(u, ":memory:") {
		return ""
	}
	return u + ".secret-key"
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
