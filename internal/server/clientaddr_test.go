package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		forwarded    []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxies trusted: the peer", "10.1.2.3:5000", []string{"203.0.113.9"}, nil, "10.1.2.3"},
		{"an untrusted peer's header is ignored", "198.51.100.7:5000", []string{"203.0.113.9"}, proxies, "198.51.100.7"},
		{"behind one proxy", "10.1.2.3:5000", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"a client's own claim left of the proxy's entry is skipped", "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"behind two proxies", "10.1.2.3:5000", []string{"203.0.113.9, 10.9.9.9"}, proxies, "203.0.113.9"},
		{"several header lines", "10.1.2.3:5000", []string{"203.0.113.9", "10.9.9.9"}, proxies, "203.0.113.9"},
		{"IPv6 proxy", "[::1]:5000", []string{"2001:db8::7"}, proxies, "2001:db8::7"},
		{"no header: the proxy", "10.1.2.3:5000", nil, proxies, "10.1.2.3"},
		{"only proxies: the peer", "10.1.2.3:5000", []string{"10.4.4.4"}, proxies, "10.1.2.3"},
		{"a malformed entry: the peer", "10.1.2.3:5000", []string{"203.0.113.9, not-an-ip"}, proxies, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/graphql", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddr(r, tc.trusted); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}
