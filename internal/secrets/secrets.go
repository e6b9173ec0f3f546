// Package secrets encrypts credential values at rest with AES-256-GCM. Each ciphertext is
// stored with the id of the key that sealed it, so that keys can be rotated: the keyring
// decrypts with any key it holds and encrypts with its primary key only.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// ErrUnknownKey is returned when a ciphertext was sealed by a key the keyring does not hold.
var ErrUnknownKey = errors.New("secrets: ciphertext sealed by an unknown key")

// ErrDecrypt is returned when a ciphertext does not open: wrong key, tampering, or a row
// moved to another owner (the associated data no longer matches).
var ErrDecrypt = errors.New("secrets: ciphertext does not decrypt")

// Keyring holds the primary key and any retired keys still needed to decrypt.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring from raw keys; the first is the primary.
func NewKeyring(primary []byte, retired ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{primary}, retired...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secrets: key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.primary = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// ParseKeyring reads base64 keys: primary, then comma-separated retired ones (either may use
// standard or URL-safe base64). Error messages never include the key material.
func ParseKeyring(primary, retired string) (*Keyring, error) {
	p, err := decodeKey(primary)
	if err != nil {
		return nil, fmt.Errorf("PLUGBOARD_SECRET_KEY: %w", err)
	}
	var old [][]byte
	for i, s := range strings.Split(retired, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("PLUGBOARD_RETIRED_SECRET_KEYS entry %d: %w", i+1, err)
		}
		old = append(old, k)
	}
	return NewKeyring(p, old...)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("must be base64 of %d bytes, got %d bytes", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("is not base64 (generate one with: openssl rand -base64 32)")
}

// KeyID names a key without revealing it: the start of its SHA-256.
func KeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("plugboard-key-id:"), key...))
	return hex.EncodeToString(h[:6])
}

// PrimaryKeyID is the id of the key new ciphertexts are sealed with.
func (k *Keyring) PrimaryKeyID() string { return k.primary }

// Encrypt seals plaintext with the primary key. aad binds the ciphertext to its owner (a row
// id): the same bytes copied to another row do not decrypt.
func (k *Keyring) Encrypt(plaintext, aad []byte) (keyID string, ciphertext []byte, err error) {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return k.primary, aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Decrypt opens a ciphertext sealed by any key of the keyring.
func (k *Keyring) Decrypt(keyID string, ciphertext, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, ErrDecrypt
	}
	nonce, sealed := ciphertext[:aead.NonceSize()], ciphertext[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// LoadOrCreateKeyFile returns the base64 key stored at path, creating the file with a fresh
// random key (mode 0600) when it does not exist. It is the embedded default's key store: the
// key lives next to the SQLite database it protects.
func LoadOrCreateKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read secret key file %s: %w", path, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	encoded := base64.StdEncoding.EncodeToString(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	// O_EXCL: two processes starting at once must not each write their own key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("create secret key file %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(encoded + "\n"); err != nil {
		return "", err
	}
	return encoded, f.Sync()
}
