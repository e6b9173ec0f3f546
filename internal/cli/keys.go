package cli

import (
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
)

func keyCommand(stdout, stderr io.Writer) *cobra.Command {
	key := &cobra.Command{Use: "key", Short: "Manage API keys"}

	var orgID, name, scopes string
	var expires time.Duration
	create := &cobra.Command{
		Use:   "create --org ID --name NAME --scopes a,b [--expires 720h]",
		Short: "Create an API key and print its secret, once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parsed, err := domain.ParseScopes(scopes)
			if err != nil {
				return err
			}
			in := domain.NewAPIKey{Name: name, Scopes: parsed}
			if expires < 0 {
				return fmt.Errorf("--expires must be positive")
			}
			if expires > 0 {
				at := time.Now().Add(expires)
				in.ExpiresAt = &at
			}
			return withStore(cmd, stderr, "warn", func(st *store.Store, logger *slog.Logger) error {
				k, secret, err := auth.NewKeys(st, logger).Create(cmd.Context(), orgID, in)
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, secret)
				// Worded for a terminal and for a script capturing standard output alike: the
				// secret may not be "above" anything the reader sees.
				fmt.Fprintf(stderr, "created API key %s (%s) with scopes %s; its secret went to standard output and cannot be shown again\n", k.ID, k.Name, scopeList(k.Scopes))
				return nil
			})
		},
	}
	create.Flags().StringVar(&orgID, "org", "", "organisation id (required)")
	create.Flags().StringVar(&name, "name", "", "a name to recognise the key by (required)")
	create.Flags().StringVar(&scopes, "scopes", "", "comma-separated: connectors:read, connectors:write, keys:manage (required)")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h; none by default")
	for _, f := range []string{"org", "name", "scopes"} {
		_ = create.MarkFlagRequired(f)
	}

	var listOrg string
	list := &cobra.Command{
		Use:   "list --org ID",
		Short: "List an organisation's API keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, stderr, "warn", func(st *store.Store, _ *slog.Logger) error {
				if _, err := st.FindOrganisation(cmd.Context(), listOrg); err != nil {
					return err
				}
				keys, err := st.ListAPIKeys(cmd.Context(), listOrg)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, scopeList(k.Scopes),
						k.CreatedAt.Format(time.RFC3339), timeOrDash(k.ExpiresAt), timeOrDash(k.RevokedAt), timeOrDash(k.LastUsedAt))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listOrg, "org", "", "organisation id (required)")
	_ = list.MarkFlagRequired("org")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, stderr, "warn", func(st *store.Store, logger *slog.Logger) error {
				k, err := auth.NewKeys(st, logger).Revoke(cmd.Context(), "", args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(stderr, "revoked API key %s (%s)\n", k.ID, k.Name)
				return nil
			})
		},
	}
	key.AddCommand(create, list, revoke)
	return key
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
