package avatar

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"testing"

	"github.com/portraitsvc/portrait"
)

// pngChunk returns a PNG chunk with a correct CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngHeader returns a PNG signature, IHDR, a token IDAT and IEND.
func pngHeader(w, h uint32, depth, ctype, interlace byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, ctype, 0, 0, interlace)
	b := append([]byte(pngSignature), pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})...)
	return append(b, pngChunk("IEND", nil)...)
}

// withPNGChunk inserts a chunk right after the IHDR of a PNG file.
func withPNGChunk(file []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 8 + 13 + 4
	out := append([]byte{}, file[:afterIHDR]...)
	out = append(out, pngChunk(typ, data)...)
	return append(out, file[afterIHDR:]...)
}

// jpegHeader returns SOI, a frame header of the given SOF marker for a
// w×h image of three 4:4:4 components, and the start of a scan.
func jpegHeader(marker byte, w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, marker, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0}
	b = append(b, 0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)
	return append(b, 0x12, 0x34, 0xff, 0xd9)
}

// gifHeader returns a GIF whose logical screen is sw×sh and whose single
// frame is fw×fh.
func gifHeader(sw, sh, fw, fh uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, sw)
	b = binary.LittleEndian.AppendUint16(b, sh)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff) // 2-entry colour table
	b = append(b, ',', 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, fw)
	b = binary.LittleEndian.AppendUint16(b, fh)
	return append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
}

// riff wraps chunks into a RIFF WEBP file with a correct size.
func riff(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body)))
	return append(b, body...)
}

// riffChunk returns a RIFF chunk, padded to an even length.
func riffChunk(id string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// appendRIFFChunk appends a chunk to a RIFF file and fixes its size.
func appendRIFFChunk(file []byte, id string, data []byte) []byte {
	out := append(append([]byte{}, file...), riffChunk(id, data)...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// lossyWebP returns a small lossy WebP of x/image's testdata.
func lossyWebP(tb testing.TB) []byte {
	b := xImageTestdata(tb, "blue-purple-pink.lossy.webp")
	if b == nil {
		tb.Skip("x/image testdata absent")
	}
	return b
}

func vp8xChunk(flags byte, w, h uint32) []byte {
	d := []byte{flags, 0, 0, 0}
	d = append(d, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	d = append(d, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return riffChunk("VP8X", d)
}

func vp8lChunk(w, h uint32) []byte {
	bits := (w - 1) | (h-1)<<14
	return riffChunk("VP8L", []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0})
}

func vp8Chunk(w, h uint16) []byte {
	d := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8 & 0x3f), byte(h), byte(h >> 8 & 0x3f)}
	return riffChunk("VP8 ", append(d, make([]byte, 16)...))
}

// TestDecompressionBombs feeds tiny files that declare huge images; each
// must be refused without allocating anything like the image.
func TestDecompressionBombs(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		code string
	}{
		{"png 100000x100000", pngHeader(100000, 100000, 8, 6, 0), portrait.EIMAGETOOLARGE},
		{"png 1x2^31-1", pngHeader(1, 1<<31-1, 8, 0, 0), portrait.EIMAGETOOLARGE},
		{"png 20000x20", pngHeader(20000, 20, 8, 0, 0), portrait.EIMAGETOOLARGE},
		{"png 8000x8000 16-bit RGBA over memory budget", pngHeader(8000, 8000, 16, 6, 0), portrait.EIMAGETOOLARGE},
		{"png 7000x7000 interlaced RGBA over memory budget", pngHeader(7000, 7000, 8, 6, 1), portrait.EIMAGETOOLARGE},
		{"gif screen 65535x65535", gifHeader(65535, 65535, 1, 1), portrait.EIMAGETOOLARGE},
		{"gif frame beyond screen", gifHeader(10, 10, 65535, 65535), portrait.ECORRUPTIMAGE},
		{"jpeg 65535x65535", jpegHeader(0xc0, 65535, 65535), portrait.EIMAGETOOLARGE},
		{"webp VP8X 100000x100000", riff(vp8xChunk(0, 100000, 100000), vp8lChunk(1, 1)), portrait.EIMAGETOOLARGE},
		{"webp VP8X 16777216x16777216", riff(vp8xChunk(0x10, 1<<24, 1<<24)), portrait.EIMAGETOOLARGE},
		{"webp VP8L 16384x16384", riff(vp8lChunk(16384, 16384)), portrait.EIMAGETOOLARGE},
		{"webp VP8 16383x16383", riff(vp8Chunk(16383, 16383)), portrait.EIMAGETOOLARGE},
		{"webp RIFF size beyond file", append([]byte("RIFF\x00\x00\x00\x10WEBP"), vp8Chunk(100, 100)...), portrait.ECORRUPTIMAGE},
		{"webp chunk size beyond file", riff([]byte("VP8 \x00\x00\x00\x01\x10\x02\x00\x9d\x01\x2a\x64\x00\x64\x00")), portrait.ECORRUPTIMAGE},
		{"webp animated", riff(vp8xChunk(0x02, 10, 10), riffChunk("ANIM", make([]byte, 6))), portrait.EUNSUPPORTEDIMAGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			allocated := allocatedBy(func() { _, err = process(tc.data) })
			if got := codeOf(err); got != tc.code {
				t.Errorf("got %q (%v), want %q", got, err, tc.code)
			}
			if allocated > 2<<20 {
				t.Errorf("allocated %d bytes to refuse it", allocated)
			}
		})
	}
}

// TestJPEGOverBudget declares a progressive JPEG whose coefficient bits
// alone exceed a small budget: it is refused before anything is decoded.
func TestJPEGOverBudget(t *testing.T) {
	p := New(Config{MemoryBudget: 8 << 20})
	data := jpegHeader(0xc2, 7000, 7000)
	data[bytes.Index(data, []byte{0, 63, 0})+1] = 0 // a DC scan: Ss = Se = 0
	var err error
	allocated := allocatedBy(func() { _, err = largest(p.Process(t.Context(), bytes.NewReader(data), Options{})) })
	if codeOf(err) != portrait.EIMAGETOOLARGE {
		t.Errorf("got %v, want EIMAGETOOLARGE", err)
	}
	if allocated > 2<<20 {
		t.Errorf("allocated %d bytes to refuse it", allocated)
	}
}

// TestDecodeCost checks the memory estimates against what the decoders
// really allocate, for a few formats of a 1000×1000 image.
func TestDecodeCost(t *testing.T) {
	img := pattern(1000, 1000)
	for _, tc := range []struct {
		name string
		f    format
		data []byte
	}{
		{"png RGBA", formatPNG, encodePNG(t, img)},
		{"gif", formatGIF, encodeGIF(t, 1000, 1000, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, err := New(Config{}).inspect(t.Context(), bytes.NewReader(tc.data), image.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			est := decodeCost(tc.f, up.config, mustHeader(t, tc.data, tc.f))
			allocated := allocatedBy(func() { _, err = tc.f.decode(bytes.NewReader(tc.data)) })
			if err != nil {
				t.Fatal(err)
			}
			if uint64(est) < allocated*9/10 || uint64(est) > 3*allocated {
				t.Errorf("estimated %d bytes, decoder allocated %d", est, allocated)
			}
		})
	}
}

func mustHeader(tb testing.TB, data []byte, f format) header {
	tb.Helper()
	h, err := readHeader(tb.Context(), bytes.NewReader(data), f)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
