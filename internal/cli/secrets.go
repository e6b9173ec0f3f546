package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/internal/secrets"
)

func secretsCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage the keys that encrypt credential values"}
	cmd.AddCommand(&cobra.Command{
		Use:   "new-key",
		Short: "Print a fresh random key for PLUGBOARD_SECRET_KEY",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			key := make([]byte, secrets.KeySize)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(key))
			return nil
		},
	}, &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every credential with PLUGBOARD_SECRET_KEY (old keys in PLUGBOARD_RETIRED_SECRET_KEYS)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := openStore(cmd.Context(), cmd, newLogger(stderr, "warn"), true)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.RotateSecrets(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "re-encrypted %d credential(s) with key %s\n", n, st.Secrets.PrimaryKeyID())
			return nil
		},
	})
	return cmd
}
