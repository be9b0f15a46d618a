package argon2id

import (
	"context"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the encoding and comparison logic is the
// same for every parameter set.
var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := New(cheap, 1)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding does not carry its parameters: %q", enc)
	}
	if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); err != nil || !ok {
		t.Fatalf("right password rejected: ok=%v err=%v", ok, err)
	}
	if ok, _, _ := h.Verify(ctx, "correct horse battery stapl", enc); ok {
		t.Fatal("wrong password accepted")
	}
	again, _ := h.Hash(ctx, "correct horse battery staple")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestOWASPParametersAndRehash(t *testing.T) {
	ctx := context.Background()
	strong := New(OWASP, 1)
	enc, err := strong.Hash(ctx, "password1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(enc, "$m=19456,t=2,p=1$") {
		t.Fatalf("not OWASP's parameters: %q", enc)
	}
	weak, _ := New(cheap, 1).Hash(ctx, "password1")
	ok, rehash, err := strong.Verify(ctx, "password1", weak)
	if err != nil || !ok || !rehash {
		t.Fatalf("old weaker hash: ok=%v rehash=%v err=%v; want true, true", ok, rehash, err)
	}
	if _, rehash, _ := strong.Verify(ctx, "password1", enc); rehash {
		t.Fatal("current hash flagged for rehash")
	}
}

func TestMalformedHashes(t *testing.T) {
	h := New(cheap, 1)
	for _, enc := range []string{
		"",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=100000,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		if _, _, err := h.Verify(context.Background(), "x", enc); err != ErrMalformed {
			t.Errorf("Verify(%q) err = %v, want ErrMalformed", enc, err)
		}
	}
}

func TestHashWaitsForSlotAndHonoursContext(t *testing.T) {
	h := New(cheap, 1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password1"); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled while no slot is free", err)
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h := New(OWASP, 1)
	for b.Loop() {
		h.Hash(context.Background(), "correct horse battery staple")
	}
}
