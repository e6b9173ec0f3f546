// Package clustertest proves that Plugboard runs as several replicas behind a load balancer:
// its test (build tag "cluster", run by `make test-cluster`) starts scripts/cluster.sh's
// PostgreSQL, replicas and HAProxy and checks, from the outside, that a revoked key is refused
// by every replica within a second, that a rolling restart under a write load fails no
// request, and that after a replica is killed under that load every acknowledged write is
// in the database exactly once.
package clustertest
