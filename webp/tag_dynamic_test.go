//go:build !nodynamic

package webp

// builtNodynamic reports whether this test binary was built with
// -tags nodynamic, as every program importing this package must be.
const builtNodynamic = false
