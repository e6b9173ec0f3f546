// Package outbound performs the HTTP calls that actions describe, with a connection's
// credentials: templating, credential application (OAuth2 tokens included), an SSRF guard,
// timeouts, size limits and redaction of secrets from everything returned or logged.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// BlockedError reports a target refused by the SSRF guard.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("%s is a %s address", e.Addr, e.Reason)
}

// Guard refuses connections to addresses inside the network Plugboard runs in: loopback,
// private, link-local (cloud metadata lives there), and other special ranges. Allow lists
// ranges that are opened on purpose. It checks the address actually dialled, after DNS
// resolution, for every connection, redirects included, so DNS tricks cannot get around it.
type Guard struct {
	Allow []netip.Prefix
}

var specialRanges = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "reserved"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
}

// Check returns a BlockedError when addr may not be dialled.
func (g *Guard) Check(addr netip.Addr) error {
	addr = addr.Unmap()
	for _, p := range g.Allow {
		if p.Contains(addr) {
			return nil
		}
	}
	reason := ""
	switch {
	case addr.IsLoopback():
		reason = "loopback"
	case addr.IsPrivate():
		reason = "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		reason = "link-local (cloud metadata)"
	case addr.IsUnspecified():
		reason = "unspecified"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		reason = "multicast"
	}
	for _, r := range specialRanges {
		if reason == "" && r.prefix.Contains(addr) {
			reason = r.reason
		}
	}
	if reason != "" {
		return &BlockedError{Addr: addr, Reason: reason}
	}
	return nil
}

// control is a net.Dialer Control hook: it sees the resolved address of each connection.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return errors.New("unparseable address")
	}
	return g.Check(addr)
}
