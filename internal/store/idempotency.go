package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

// AnswerLifetime is how long a mutation's answer is replayed for its Idempotency-Key.
const AnswerLifetime = 24 * time.Hour

// A key's row goes running → applied → done (migration 10). The claim is committed on its
// own before the mutation runs, so that a concurrent repeat sees it and is refused at once
// instead of waiting on a row lock; applied is written in the mutation's own transaction
// (transaction, below), so that a change is never made twice under one key; the answer is
// written right after that commit, before the client is answered.

type idempotencyRow struct {
	ID          string
	RequestHash string
	State       string
	Answer      []byte
	AnswerKeyID *string
	CreatedAt   time.Time
	ExpiresUs   int64
}

// ClaimIdempotencyKey takes in's key for a request about to run, or returns the stored answer
// of the first request with the same body, or a CONFLICT: another body, the first still
// running, or the first committed without a recorded answer. Expired rows are ignored, and
// purged a batch at a time.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, in domain.IdempotencyRequest) (*domain.IdempotencyClaim, []byte, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	nowUs := now.UnixMicro()
	if err := db.Exec(`DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys WHERE expires_us <= ? LIMIT 100)`, nowUs).Error; err != nil {
		return nil, nil, fmt.Errorf("purge idempotency keys: %w", err)
	}
	// Three rounds: between a refused insert and the read, the holder may release the key or
	// its row may expire.
	for range 3 {
		claim := &domain.IdempotencyClaim{ID: newID(), Secret: in.Secret}
		res := db.Exec(`INSERT INTO idempotency_keys (id, organisation_id, caller, idempotency_key, request_hash, state, created_at, expires_us)
			VALUES (?, ?, ?, ?, ?, 'running', ?, ?) ON CONFLICT (organisation_id, caller, idempotency_key) DO NOTHING`,
			claim.ID, in.OrganisationID, in.Caller, in.Key, in.Hash, now, now.Add(in.Lease).UnixMicro())
		if res.Error != nil {
			return nil, nil, fmt.Errorf("claim idempotency key: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return claim, nil, nil
		}
		var rows []idempotencyRow
		err := db.Raw(`SELECT id, request_hash, state, answer, answer_key_id, created_at, expires_us FROM idempotency_keys
			WHERE organisation_id = ? AND caller = ? AND idempotency_key = ?`, in.OrganisationID, in.Caller, in.Key).Scan(&rows).Error
		if err != nil {
			return nil, nil, fmt.Errorf("read idempotency key: %w", err)
		}
		if len(rows) == 0 {
			continue
		}
		row := rows[0]
		switch {
		case row.ExpiresUs <= nowUs:
			// A running claim whose server died, or an answer older than 24 hours: the key is
			// free again. The state check keeps a claim that was just applied.
			if err := db.Exec(`DELETE FROM idempotency_keys WHERE id = ? AND expires_us <= ?`, row.ID, nowUs).Error; err != nil {
				return nil, nil, fmt.Errorf("free idempotency key: %w", err)
			}
			continue
		case row.RequestHash != in.Hash:
			return nil, nil, domain.Errorf(domain.CodeConflict, "this Idempotency-Key was used with another request (query, operationName or variables) in the last 24 hours; send a new key for a new request")
		case row.State == "running":
			return nil, nil, domain.Errorf(domain.CodeConflict, "a request with this Idempotency-Key is still running; retry once it has answered")
		case row.State == "applied" && now.Before(row.CreatedAt.Add(in.Lease)):
			// Committed, its answer about to be written (or being retried while the database
			// comes back).
			return nil, nil, domain.Errorf(domain.CodeConflict, "the request with this Idempotency-Key was applied and its answer is being recorded; retry in a moment")
		case row.State == "applied":
			return nil, nil, domain.Errorf(domain.CodeConflict, "the request with this Idempotency-Key was applied but its answer could not be recorded; read the current state instead of retrying")
		}
		answer := row.Answer
		if row.AnswerKeyID != nil {
			if s.Secrets == nil {
				return nil, nil, errNoKeyring
			}
			if answer, err = s.Secrets.Decrypt(*row.AnswerKeyID, row.Answer, []byte(row.ID)); err != nil {
				return nil, nil, fmt.Errorf("open idempotent answer %s: %w", row.ID, err)
			}
		}
		return nil, answer, nil
	}
	return nil, nil, domain.Errorf(domain.CodeConflict, "a request with this Idempotency-Key is still running; retry once it has answered")
}

// markApplied records, in the mutation's transaction, that the claim's mutation committed.
// No row means the claim expired and another request took the key: the mutation is rolled
// back rather than made twice.
func (s *Store) markApplied(tx *gorm.DB, claim *domain.IdempotencyClaim) error {
	res := tx.Exec(`UPDATE idempotency_keys SET state = 'applied', expires_us = ? WHERE id = ? AND state IN ('running', 'applied')`,
		s.now().Add(AnswerLifetime).UnixMicro(), claim.ID)
	if res.Error != nil {
		return fmt.Errorf("mark idempotency key applied: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.CodeConflict, "this request's Idempotency-Key outlived the request timeout and was taken by a retry; nothing was changed")
	}
	return nil
}

// RecordIdempotentAnswer stores the answer of the claim's request for 24 hours, sealed when
// it holds a shown-once secret.
func (s *Store) RecordIdempotentAnswer(ctx context.Context, claim *domain.IdempotencyClaim, answer []byte) error {
	var keyID *string
	if claim.Secret {
		if s.Secrets == nil {
			return errNoKeyring
		}
		id, sealed, err := s.Secrets.Encrypt(answer, []byte(claim.ID))
		if err != nil {
			return fmt.Errorf("seal idempotent answer: %w", err)
		}
		keyID, answer = &id, sealed
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE idempotency_keys SET state = 'done', answer = ?, answer_key_id = ?, expires_us = ?
		WHERE id = ? AND state IN ('running', 'applied')`, answer, keyID, s.now().Add(AnswerLifetime).UnixMicro(), claim.ID)
	if res.Error != nil {
		return fmt.Errorf("record idempotent answer: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("record idempotent answer: claim %s is gone", claim.ID)
	}
	return nil
}

// ReleaseIdempotencyKey frees the key of a request that changed nothing, so that a retry
// (with the same body or a corrected one) runs. A claim already applied is kept.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, claim *domain.IdempotencyClaim) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM idempotency_keys WHERE id = ? AND state = 'running'`, claim.ID).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
