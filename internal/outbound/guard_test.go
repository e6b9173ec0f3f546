package outbound

import (
	"net/netip"
	"testing"
)

func TestGuard(t *testing.T) {
	g := &Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	cases := []struct {
		addr    string
		blocked bool
	}{
		{"93.184.216.34", false}, {"2606:4700::1111", false}, {"8.8.8.8", false},
		{"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true},
		{"10.0.0.1", true}, {"172.16.5.4", true}, {"192.168.1.1", true}, {"fd00::1", true}, {"fd00:ec2::254", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"0.0.0.0", true}, {"::", true},
		{"100.64.1.1", true}, {"224.0.0.1", true}, {"198.18.0.1", true}, {"255.255.255.255", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:169.254.169.254", true}, {"64:ff9b::a9fe:a9fe", true},
		{"10.20.3.4", false}, // opened by Allow
	}
	for _, tc := range cases {
		err := g.Check(netip.MustParseAddr(tc.addr))
		if (err != nil) != tc.blocked {
			t.Errorf("%s: blocked=%v, want %v (%v)", tc.addr, err != nil, tc.blocked, err)
		}
	}
}

func TestControlRejectsNames(t *testing.T) {
	g := &Guard{}
	if err := g.control("tcp", "127.0.0.1:80", nil); err == nil {
		t.Error("loopback must be refused at dial time")
	}
	if err := g.control("tcp", "example.com:80", nil); err == nil {
		t.Error("an unresolved name must never be dialled")
	}
}
