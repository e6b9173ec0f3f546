package store

import (
	"context"
	"fmt"
	"time"
)

// staleHeartbeat is how old a heartbeat row gets before a beat deletes it: far beyond the
// few seconds that count a server as live, so that a server briefly stalled is not removed
// under its own feet, and the table never grows with servers long gone.
const staleHeartbeat = time.Minute

// Beat records that server serverID is alive and returns how many servers (itself included)
// beat within live. Times are the database's clock, so that servers with skewed clocks agree.
// On SQLite one server owns the file: it writes nothing and counts one.
func (s *Store) Beat(ctx context.Context, serverID string, live time.Duration) (int, error) {
	if s.dialect != Postgres {
		return 1, nil
	}
	db := s.db.WithContext(ctx)
	if err := db.Exec(`INSERT INTO server_heartbeats (server_id, seen_at) VALUES (@id, clock_timestamp())
		ON CONFLICT (server_id) DO UPDATE SET seen_at = EXCLUDED.seen_at`, map[string]any{"id": serverID}).Error; err != nil {
		return 0, fmt.Errorf("heartbeat of server %s: %w", serverID, err)
	}
	// Rows of servers that died without leaving are ignored by the count below; deleting them
	// here, on the way, keeps the table as small as the cluster.
	if err := db.Exec(`DELETE FROM server_heartbeats WHERE seen_at < clock_timestamp() - make_interval(secs => CAST(@stale AS double precision))`,
		map[string]any{"stale": staleHeartbeat.Seconds()}).Error; err != nil {
		return 0, fmt.Errorf("delete stale heartbeats: %w", err)
	}
	var n int
	if err := db.Raw(`SELECT count(*) FROM server_heartbeats WHERE seen_at > clock_timestamp() - make_interval(secs => CAST(@live AS double precision))`,
		map[string]any{"live": live.Seconds()}).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("count live servers: %w", err)
	}
	// The server's own row was just written: the count is at least one, even if the database
	// clock jumped.
	return max(n, 1), nil
}

// Leave deletes server serverID's heartbeat, so that the others take up its share of the
// inbound limit at their next beat instead of a few seconds later.
func (s *Store) Leave(ctx context.Context, serverID string) error {
	if s.dialect != Postgres {
		return nil
	}
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM server_heartbeats WHERE server_id = @id`, map[string]any{"id": serverID}).Error; err != nil {
		return fmt.Errorf("leave heartbeats as server %s: %w", serverID, err)
	}
	return nil
}
