package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/internal/document"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
)

func connectorCommand(stdout, stderr io.Writer) *cobra.Command {
	connector := &cobra.Command{Use: "connector", Short: "Export and apply connector documents"}

	var version, format string
	export := &cobra.Command{
		Use:   "export ID [--version NAME] [--format yaml|json]",
		Short: "Print a connector and one version (default: the default version) as a document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := document.YAML
			switch format {
			case "yaml", "YAML":
			case "json", "JSON":
				f = document.JSON
			default:
				return fmt.Errorf("--format must be yaml or json")
			}
			return withStore(cmd, stderr, "warn", func(st *store.Store, _ *slog.Logger) error {
				out, err := exportDocument(cmd, st, args[0], version, f)
				if err != nil {
					return err
				}
				_, err = stdout.Write(out)
				return err
			})
		},
	}
	export.Flags().StringVar(&version, "version", "", "a version name, or latest; default: the connector's default version")
	export.Flags().StringVar(&format, "format", "yaml", "yaml or json")

	var orgID, file string
	apply := &cobra.Command{
		Use:   "apply --org ORG -f FILE",
		Short: "Create or update a connector and its version from a document; prints the connector id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				data []byte
				err  error
			)
			if file == "-" {
				data, err = io.ReadAll(os.Stdin)
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			doc, err := document.Parse(data)
			if err != nil {
				return err
			}
			return withStore(cmd, stderr, "warn", func(st *store.Store, _ *slog.Logger) error {
				if _, err := st.FindOrganisation(cmd.Context(), orgID); err != nil {
					return err
				}
				res, err := st.ApplyConnector(cmd.Context(), orgID, doc.Spec())
				if err != nil {
					return err
				}
				for _, w := range res.Warnings {
					fmt.Fprintln(stderr, "warning:", w)
				}
				fmt.Fprintln(stdout, res.Connector.ID)
				if res.Changed {
					fmt.Fprintf(stderr, "applied connector %q, version %q (revision %d)\n", res.Connector.Name, res.Version.Name, res.Connector.Revision)
				} else {
					fmt.Fprintf(stderr, "connector %q and version %q already match the document: nothing written\n", res.Connector.Name, res.Version.Name)
				}
				return nil
			})
		},
	}
	apply.Flags().StringVar(&orgID, "org", "", "organisation id (required)")
	apply.Flags().StringVarP(&file, "file", "f", "", "the document (YAML or JSON); - reads standard input (required)")
	for _, f := range []string{"org", "file"} {
		_ = apply.MarkFlagRequired(f)
	}
	connector.AddCommand(export, apply)
	return connector
}

// exportDocument renders a connector found by id in any organisation: the command line is
// the operator's tool.
func exportDocument(cmd *cobra.Command, st *store.Store, id, version string, f document.Format) ([]byte, error) {
	orgID, err := st.OrganisationOfConnector(cmd.Context(), id)
	if err != nil {
		return nil, err
	}
	c, err := st.FindConnector(cmd.Context(), orgID, id)
	if err != nil {
		return nil, err
	}
	name := version
	if name == "" {
		name = domain.VersionDefault
	}
	v, err := st.FindVersionByName(cmd.Context(), orgID, id, name)
	if err != nil {
		if version == "" && domain.ErrorCode(err) == domain.CodeNotFound {
			return nil, fmt.Errorf("connector %s has no published default version: name one with --version", id)
		}
		return nil, err
	}
	triggers, err := st.FindVersionTriggers(cmd.Context(), orgID, v.ID)
	if err != nil {
		return nil, err
	}
	return document.Render(document.Of(c, v, triggers), f)
}
