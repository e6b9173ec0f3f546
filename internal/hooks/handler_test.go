package hooks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

type fakeStore struct {
	target *domain.HookTarget
	stored int
}

func (f *fakeStore) HookTarget(context.Context, string) (*domain.HookTarget, error) {
	return f.target, nil
}
func (f *fakeStore) StoreEvent(context.Context, *domain.Event) (bool, error) {
	f.stored++
	return true, nil
}

// Deliveries have their own cap: a sender holding the only slot (a body still arriving) makes
// the next delivery 503 with Retry-After, and stores nothing.
func TestDeliveryCap(t *testing.T) {
	s, _ := domain.HmacOverrides{Preset: domain.PresetGitHub}.Settings()
	store := &fakeStore{target: &domain.HookTarget{Settings: s, Secrets: []string{"k"}}}
	h := NewHandler(Handler{Store: store, MaxConcurrent: 1, ReadTimeout: 5 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/hooks/{id}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		res, err := http.Post(srv.URL+"/hooks/a", "application/json", pr)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	_, _ = pw.Write([]byte("{"))
	for deadline := time.Now().Add(10 * time.Second); len(h.slots) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first delivery never took its slot")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err := http.Post(srv.URL+"/hooks/a", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("over the cap: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	_ = pw.Close()
	if status := <-first; status != http.StatusUnauthorized || store.stored != 0 {
		t.Errorf("unsigned first delivery: %d, %d stored", status, store.stored)
	}
}
