// Package argon2id hashes and verifies passwords with Argon2id, following
// OWASP's password-storage guidance. Hashes are encoded in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) so that the parameters
// travel with each hash and can be raised later without breaking old ones.
package argon2id

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the Argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// OWASP is OWASP's recommended minimum: 19 MiB of memory, 2 iterations,
// 1 degree of parallelism.
var OWASP = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from a stored hash, so that a corrupted or
// hostile hash cannot make Verify allocate or spin without limit.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 64
	maxKeyLen     = 128
	maxSaltLen    = 128
)

// ErrMalformed is returned by Verify for a hash it cannot parse.
var ErrMalformed = errors.New("argon2id: malformed hash")

// Hasher hashes and verifies passwords. Each hash costs Params.MemoryKiB of
// memory, so at most a bounded number run at once; the others wait.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// New returns a Hasher with the given parameters that runs at most
// concurrency hashes at once (GOMAXPROCS when concurrency <= 0).
func New(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency)}
}

// Hash returns the PHC-encoded Argon2id hash of password with a fresh
// random salt. It returns ctx.Err() if ctx ends while waiting for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	p := h.params
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash, in time that
// does not depend on where they differ. needsRehash is true when the hash
// was made with weaker parameters than the Hasher's.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, p.MemoryKiB < h.params.MemoryKiB || p.Iterations < h.params.Iterations, nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen), nil
}

var b64 = base64.RawStdEncoding

func decode(encoded string) (p Params, salt, key []byte, err error) {
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, ErrMalformed
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || !withinBounds(p, len(salt), len(key)) {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

func withinBounds(p Params, saltLen, keyLen int) bool {
	return p.MemoryKiB >= 8*uint32(p.Parallelism) && p.MemoryKiB <= maxMemoryKiB &&
		p.Iterations >= 1 && p.Iterations <= maxIterations && p.Parallelism >= 1 &&
		saltLen >= 8 && saltLen <= maxSaltLen && keyLen >= 16 && keyLen <= maxKeyLen
}
