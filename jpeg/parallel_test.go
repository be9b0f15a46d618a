package jpeg

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// grant returns a Helpers function that grants up to n goroutines and
// counts the grants.
func grant(n int, granted *atomic.Int32) func(int) (int, func()) {
	return func(want int) (int, func()) {
		k := min(n, want)
		granted.Add(int32(k))
		return k, func() {}
	}
}

// TestParallelMatchesSerial decodes files with restart intervals on
// several goroutines and on one: the pixels are the same, at every scale
// and crop, and a damaged file fails both ways.
func TestParallelMatchesSerial(t *testing.T) {
	defer func(i, m int) { minParallelIntervals, minParallelMCUs = i, m }(minParallelIntervals, minParallelMCUs)
	minParallelIntervals, minParallelMCUs = 2, 1
	files := map[string][]byte{}
	for _, name := range []string{"video-001.restart2.jpeg"} {
		if data, err := os.ReadFile(filepath.Join(goTestdata, name)); err == nil {
			files[name] = data
		}
	}
	for _, name := range []string{"sample-4x1-restart.jpg", "grey-restart.jpg"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			for _, o := range []Options{{}, {Scale: 2}, {Scale: 8, Crop: image.Rect(20, 10, 60, 50)}} {
				var granted atomic.Int32
				serial, err1 := decode(t, data, o)
				o.Helpers = grant(3, &granted)
				par, err2 := decode(t, data, o)
				if err1 != nil || err2 != nil {
					t.Fatalf("serial: %v; parallel: %v", err1, err2)
				}
				if worst, _ := maxDiff(par, serial); worst != 0 || par.Bounds() != serial.Bounds() {
					t.Errorf("%+v: parallel differs from serial by %d", o, worst)
				}
				if granted.Load() == 0 {
					t.Errorf("%+v: no helper was asked for", o)
				}
			}
			damaged := bytes.Clone(data)
			if i := bytes.Index(damaged, []byte{0xff, 0xd1}); i > 0 {
				damaged[i+1] = 0xd5
				_, err1 := decode(t, damaged, Options{})
				var granted atomic.Int32
				_, err2 := decode(t, damaged, Options{Helpers: grant(3, &granted)})
				if err1 == nil || err2 == nil {
					t.Errorf("a wrong RST marker: serial %v, parallel %v", err1, err2)
				}
			}
		})
	}
}

// TestParallelLargeRestartFile decodes a 2 MP cjpeg file with a restart
// marker every MCU row, as cameras write them, in parallel and serially.
func TestParallelLargeRestartFile(t *testing.T) {
	data := cjpeg(t, 1920, 1080, "-restart", "1")
	serial, err := decode(t, data, Options{Scale: 4})
	if err != nil {
		t.Fatal(err)
	}
	var granted atomic.Int32
	par, err := decode(t, data, Options{Scale: 4, Helpers: grant(1, &granted)})
	if err != nil {
		t.Fatal(err)
	}
	if worst, _ := maxDiff(par, serial); worst != 0 || granted.Load() != 1 {
		t.Errorf("parallel differs by %d; %d helpers granted", worst, granted.Load())
	}
}
