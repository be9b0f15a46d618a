package webp

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	wasm "github.com/gen2brain/webp"
)

// TestBuiltWasmOnly: this very binary must not have tried a system
// libwebp. Run the package's tests with -tags nodynamic.
func TestBuiltWasmOnly(t *testing.T) {
	if !builtNodynamic {
		skipOrFail(t, "built without -tags nodynamic: gen2brain/webp links purego and may load a system libwebp; run go test -tags nodynamic ./webp")
	}
	if wasm.Dynamic() == nil {
		t.Fatal("a system libwebp was loaded despite -tags nodynamic")
	}
	if _, err := New(1); err != nil {
		t.Fatal(err)
	}
}

// TestNodynamicDropsPurego: with the tag, nothing that can dlopen is even
// linked (and the binary can stay static); without it, purego is.
func TestNodynamicDropsPurego(t *testing.T) {
	goTool := goCommand(t)
	for _, tags := range []string{"nodynamic", ""} {
		out, err := exec.Command(goTool, "list", "-deps", "-tags="+tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags=%q: %v\n%s", tags, err, out)
		}
		linked := strings.Contains(string(out), "github.com/ebitengine/purego\n")
		if linked != (tags == "") {
			t.Errorf("go list -deps -tags=%q: purego linked = %v, want %v", tags, linked, tags == "")
		}
	}
}

// TestSystemLibwebpIsRefused builds this package's tests without the tag,
// runs them where a system libwebp.so can be found, and expects New to
// refuse to encode with it.
func TestSystemLibwebpIsRefused(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("inside the helper")
	}
	libs := systemLibwebp(t)
	dir := t.TempDir()
	for name, target := range libs {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "webp.test")
	build := exec.Command(goCommand(t), "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c without tags: %v\n%s", err, out)
	}
	run := exec.Command(bin, "-test.run=^TestHelperSystemLibwebp$", "-test.v")
	run.Env = append(os.Environ(), "LD_LIBRARY_PATH="+dir, helperEnv+"=1")
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperSystemLibwebp") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

const helperEnv = "WEBP_SYSTEM_LIBWEBP_HELPER"

// TestHelperSystemLibwebp runs only inside TestSystemLibwebpIsRefused.
func TestHelperSystemLibwebp(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs only as TestSystemLibwebpIsRefused's helper")
	}
	if err := wasm.Dynamic(); err != nil {
		t.Fatalf("the helper did not load the system libwebp (%v): the test proves nothing", err)
	}
	if _, err := New(1); !errors.Is(err, ErrSystemLibwebp) {
		t.Fatalf("New with a system libwebp loaded: %v, want ErrSystemLibwebp", err)
	}
}

// systemLibwebp returns the names gen2brain/webp dlopens, mapped to the
// host's libwebp and libwebpdemux (Debian's libwebp7 and libwebpdemux2).
func systemLibwebp(t *testing.T) map[string]string {
	want := map[string]string{"libwebp.so": "libwebp.so.7", "libwebpdemux.so": "libwebpdemux.so.2"}
	found := map[string]string{}
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"} {
		for name, file := range want {
			if _, err := os.Stat(filepath.Join(dir, file)); err == nil && found[name] == "" {
				found[name] = filepath.Join(dir, file)
			}
		}
	}
	if len(found) != len(want) {
		skipOrFail(t, "no system libwebp to refuse (apt-get install libwebp7 libwebpdemux2)")
	}
	return found
}

func goCommand(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "no go command: %v", err)
	}
	return p
}
