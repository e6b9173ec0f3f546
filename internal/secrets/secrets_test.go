package secrets_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/secrets"
)

func randomKey(t *testing.T) []byte {
	k := make([]byte, secrets.KeySize)
	rand.Read(k)
	return k
}

func TestEncryptDecrypt(t *testing.T) {
	old, cur := randomKey(t), randomKey(t)
	ringOld, _ := secrets.NewKeyring(old)
	ring, err := secrets.NewKeyring(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"password":"hunter2"}`)
	oldID, oldCT, _ := ringOld.Encrypt(plain, []byte("row-1"))
	id, ct, _ := ring.Encrypt(plain, []byte("row-1"))
	if id != ring.PrimaryKeyID() || id == oldID {
		t.Fatal("new ciphertexts must use the primary key")
	}
	if bytes.Contains(ct, []byte("hunter2")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	_, ct2, _ := ring.Encrypt(plain, []byte("row-1"))
	if bytes.Equal(ct, ct2) {
		t.Fatal("nonces must differ")
	}
	cases := []struct {
		name  string
		id    string
		ct    []byte
		aad   string
		want  error
		plain bool
	}{
		{"Primary", id, ct, "row-1", nil, true},
		{"Retired", oldID, oldCT, "row-1", nil, true},
		{"ErrOtherRow", id, ct, "row-2", secrets.ErrDecrypt, false},
		{"ErrTampered", id, append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^1), "row-1", secrets.ErrDecrypt, false},
		{"ErrUnknownKey", "deadbeef", ct, "row-1", secrets.ErrUnknownKey, false},
		{"ErrShort", id, []byte{1, 2}, "row-1", secrets.ErrDecrypt, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ring.Decrypt(tc.id, tc.ct, []byte(tc.aad))
			if !errors.Is(err, tc.want) || (tc.plain && !bytes.Equal(got, plain)) {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestParseKeyring(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(randomKey(t))
	secretText := "c2hvcnQ=" // "short"
	cases := []struct {
		name, primary, retired string
		ok                     bool
	}{
		{"OK", k, "", true},
		{"URLSafe", base64.RawURLEncoding.EncodeToString(randomKey(t)), k, true},
		{"ErrShort", secretText, "", false},
		{"ErrNotBase64", "!!!", "", false},
		{"ErrRetired", k, "nope!", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secrets.ParseKeyring(tc.primary, tc.retired)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && (strings.Contains(err.Error(), tc.primary) && tc.primary != "") {
				t.Fatal("error message contains the key")
			}
		})
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.secret-key")
	k1, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	k2, _ := secrets.LoadOrCreateKeyFile(path)
	if k1 != k2 {
		t.Fatal("the key must be generated once")
	}
	if _, err := secrets.ParseKeyring(k1, ""); err != nil {
		t.Fatal(err)
	}
}
