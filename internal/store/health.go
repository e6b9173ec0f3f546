package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.HealthStore = (*Store)(nil)

// RecordObservation writes what a call learned about a connection's credentials. A change of
// status is written only over the status the caller read (another server may have recorded a
// newer one meanwhile) and audited in the same transaction; without a change, only a
// lastCheckedAt older than the interval is moved. Neither touches revision or updated_at.
func (s *Store) RecordObservation(ctx context.Context, orgID, connectionID string, current domain.ConnectionStatus, lastChecked *time.Time, o domain.Observation) error {
	at := o.At.UTC().Truncate(time.Microsecond)
	if o.Status == current {
		if lastChecked != nil && at.Sub(*lastChecked) < domain.HealthCheckInterval {
			return nil
		}
		err := s.db.WithContext(ctx).Model(&connectionRow{}).
			Where("id = ? AND organisation_id = ? AND status = ? AND (last_checked_at IS NULL OR last_checked_at < ?)",
				connectionID, orgID, string(current), at.Add(-domain.HealthCheckInterval)).
			UpdateColumns(map[string]any{"last_checked_at": at, "status_message": o.Message}).Error
		if err != nil {
			return fmt.Errorf("record connection check: %w", err)
		}
		return nil
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		return s.setStatus(tx, orgID, connectionID, &current, o.Status, o.Message, at)
	})
	if err != nil {
		return fmt.Errorf("record connection status: %w", err)
	}
	return nil
}

// setStatus moves a connection to status (from the status from, when given) and audits the
// change (at, when not zero, is when it was checked); it writes nothing when the connection is already there, or no longer at from.
func (s *Store) setStatus(tx *gorm.DB, orgID, connectionID string, from *domain.ConnectionStatus, to domain.ConnectionStatus, message *string, at time.Time) error {
	q := tx.Model(&connectionRow{}).Where("id = ? AND organisation_id = ? AND status <> ?", connectionID, orgID, string(to))
	if from != nil {
		q = q.Where("status = ?", string(*from))
	}
	values := map[string]any{"status": string(to), "status_message": message}
	if !at.IsZero() {
		values["last_checked_at"] = at
	}
	res := q.UpdateColumns(values)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return s.audit(tx, orgID, "connection.status", "connection", connectionID, []string{"status"})
}

// resetStatus is what setting a credential does to its connection's health: new values are
// unproven until a call or a connect uses them.
func (s *Store) resetStatus(tx *gorm.DB, orgID, connectionID string) error {
	return s.setStatus(tx, orgID, connectionID, nil, domain.StatusPending, nil, time.Time{})
}
