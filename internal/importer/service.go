package importer

import (
	"context"
	"fmt"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

// Format is the kind of description an import reads.
type Format int

// The formats.
const (
	FormatOpenAPI Format = iota
	FormatPostman
)

// Store is what imports write through.
type Store interface {
	FindConnector(ctx context.Context, orgID, id string) (*domain.Connector, error)
	ImportDocument(ctx context.Context, orgID, connectorID, versionName string, doc *domain.ImportedDocument) (*domain.ImportResult, error)
}

// Service runs imports one at a time per server: parsing a large description takes hundreds
// of megabytes and seconds of a core, and two at once would take twice that.
type Service struct {
	store Store
	turn  chan struct{}
}

// NewService returns the import service of one server.
func NewService(store Store) *Service {
	return &Service{store: store, turn: make(chan struct{}, 1)}
}

// Import reads document in format and writes it into the connector's draft versionName. The
// connector is checked first, so that a missing or foreign one answers NOT_FOUND before any
// parsing.
func (s *Service) Import(ctx context.Context, orgID, connectorID string, format Format, document, versionName string) (*domain.ImportResult, error) {
	if _, err := s.store.FindConnector(ctx, orgID, connectorID); err != nil {
		return nil, err
	}
	if err := domain.ValidateVersionName("versionName", versionName); err != nil {
		return nil, err
	}
	// A second import is refused at once rather than queued: a queued one would spend its
	// deadline waiting and then fail late with a timeout.
	select {
	case s.turn <- struct{}{}:
	default:
		return nil, domain.RateLimited(importRetryAfter, "another import is running on this server; try again shortly")
	}
	// The work runs apart from the request so that the request answers when its deadline
	// ends even while the parser (which does not look at the context) is still busy; the
	// turn is held until that work has stopped, so that two parses never overlap.
	type outcome struct {
		result *domain.ImportResult
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			// Off the request's goroutine, gqlgen's recovery does not reach a panic here.
			if cause := recover(); cause != nil {
				o = outcome{err: fmt.Errorf("import: %v", cause)}
			}
			// Given back before the answer, so that the caller's next import finds it free.
			<-s.turn
			done <- o
		}()
		o.result, o.err = s.run(ctx, orgID, connectorID, format, document, versionName)
	}()
	select {
	case o := <-done:
		return o.result, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// importRetryAfter is how long a refused import is told to wait: a typical import's time.
const importRetryAfter = 5 * time.Second

func (s *Service) run(ctx context.Context, orgID, connectorID string, format Format, document, versionName string) (*domain.ImportResult, error) {
	var (
		doc *domain.ImportedDocument
		err error
	)
	switch format {
	case FormatPostman:
		doc, err = Postman([]byte(document))
	default:
		doc, err = OpenAPI(ctx, []byte(document))
	}
	if err != nil {
		return nil, err
	}
	// The deadline may have passed while parsing: write nothing then.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.store.ImportDocument(ctx, orgID, connectorID, versionName, doc)
}
