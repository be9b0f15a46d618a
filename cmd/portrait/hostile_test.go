package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"io"
	"net"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHostileUploads sends the uploads an attacker would: bombs, polyglots,
// disguised formats, odd filenames, abusive multipart. Each gets an exact
// status and code; none a 5xx; the heap never grows past the decode budget
// plus the bodies in flight; the server stays healthy.
func TestHostileUploads(t *testing.T) {
	const budget = 64 << 20
	s := startServer(t, map[string]string{"PORTRAIT_DECODE_MEMORY": fmt.Sprint(budget), "PORTRAIT_UPLOAD_PER_MINUTE": "0"})
	a := s.newAccount(t)
	jpg, png := photo(t, 300, 200), translucentPNG(t, 60, 40)
	peak := watchHeap(t)

	cases := []struct {
		name   string
		parts  []part
		status int
		code   string
	}{
		{"PNG declaring 100000×100000", file(pngOf(100000, 100000, 2, nil)), 400, "image_too_large"},
		{"PNG zip bomb: 64 MP of zeros in 200 KB", file(pngOf(8000, 8000, 2, zeros{})), 400, "image_too_large"},
		{"GIF declaring 65535×65535", file(gifHeader(65535, 65535)), 400, "image_too_large"},
		{"JPEG declaring 65500×65500", file(jpegHeader(65500, 65500)), 400, "image_too_large"},
		{"WebP declaring 16384×16384", file(webpHeader(16384, 16384)), 400, "image_too_large"},
		{"GIF with 3000 frames", file(manyFrameGIF(t, 3000)), 200, ""},
		{"JPEG followed by HTML", file(append(bytes.Clone(jpg), "<html><script>alert(1)</script></html>"...)), 200, ""},
		{"PNG followed by a ZIP", file(append(bytes.Clone(png), "PK\x03\x04\x14\x00\x00\x00\x08\x00payload.exe"...)), 200, ""},
		{"HTML followed by a JPEG", file(append([]byte("<html><body>"), jpg...)), 400, "unsupported_image_type"},
		{"SVG with script", file([]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)), 400, "unsupported_image_type"},
		{"HEIC", file([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x08mdat")), 400, "unsupported_image_type"},
		{"PDF", file([]byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")), 400, "unsupported_image_type"},
		{"0 bytes", file(nil), 400, "empty_file"},
		{"truncated PNG", file(png[:len(png)/2]), 400, "corrupt_image"},
		{"PNG with a bad CRC", file(corruptCRC(png)), 400, "corrupt_image"},
		{"JPEG sent as text/html", []part{{"file", "a.html", "text/html", jpg}}, 200, ""},
		{"filename with ../", []part{{"file", "../../../etc/passwd", "", jpg}}, 200, ""},
		{"filename with NUL", []part{{"file", "a\x00.php", "", jpg}}, 200, ""},
		{"filename with odd unicode", []part{{"file", "\u202egpj.exe 𝓹𝓱𝓸𝓽𝓸", "", jpg}}, 200, ""},
		{"two file parts", []part{{"file", "a.jpg", "", jpg}, {"file", "b.jpg", "", jpg}}, 400, "multiple_files"},
		{"hundreds of parts", hundredsOfParts(jpg), 400, "too_many_parts"},
		{"a 200 KB part header", []part{{"file", strings.Repeat("x", 200<<10), "", jpg}}, 400, "part_header_too_large"},
		{"a 9 KB part header", []part{{"file", strings.Repeat("x", 9<<10), "", jpg}}, 400, "part_header_too_large"},
		{"a 7 KB part header", []part{{"file", strings.Repeat("x", 7<<10), "", jpg}}, 200, ""},
		{"a 10 KB header on a discarded part", []part{{"note", strings.Repeat("x", 10<<10), "", []byte("x")}, {"file", "a.jpg", "", jpg}}, 400, "part_header_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.upload(t, a.token, c.parts...)
			if r.status != c.status {
				t.Fatalf("got %s, want %d %s", r, c.status, c.code)
			}
			if c.status != 200 {
				if code := r.code(t); code != c.code {
					t.Fatalf("code %q, want %q", code, c.code)
				}
				return
			}
			assertCleanImage(t, r, a.id)
		})
	}
	if grown := peak.stop(); grown > budget+48<<20 {
		t.Errorf("heap grew by %d MiB during the hostile uploads; budget %d MiB", grown>>20, budget>>20)
	}
	if r := do(t, "GET", s.base+"/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("server unhealthy after the hostile uploads: %s", r)
	}
}

// assertCleanImage checks an accepted upload: the URL is ours, not the
// client's filename, and the served bytes are a pure re-encoded image.
func assertCleanImage(t *testing.T, r reply, userID string) {
	t.Helper()
	url, _ := r.data(t)["profile_image"].(string)
	if !strings.Contains(url, "/profileImages/"+userID+"/") || strings.ContainsAny(url, "\x00\u202e") || strings.Contains(url, "passwd") {
		t.Fatalf("unexpected image URL %q", url)
	}
	img := do(t, "GET", url, "", "", nil)
	for _, bad := range []string{"<script", "<html", "PK\x03\x04", "Exif"} {
		if bytes.Contains(img.body, []byte(bad)) {
			t.Fatalf("served image contains %q", bad)
		}
	}
	if _, _, err := image.Decode(bytes.NewReader(img.body)); err != nil {
		t.Fatalf("served image does not decode: %v", err)
	}
}

func file(data []byte) []part {
	return []part{{"file", "upload.bin", "application/octet-stream", data}}
}

func hundredsOfParts(jpg []byte) []part {
	parts := make([]part, 300)
	for i := range parts {
		parts[i] = part{fmt.Sprintf("f%d", i), "", "", []byte("x")}
	}
	return append(parts, part{"file", "a.jpg", "", jpg})
}

// pngOf returns a PNG with the given header whose pixel data is the zlib
// of up to w*h*3 bytes read from pixels (nil: no data at all).
func pngOf(w, h uint32, colorType byte, pixels io.Reader) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	writeChunk(&b, "IHDR", append(ihdr, 8, colorType, 0, 0, 0))
	if pixels != nil {
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		row := make([]byte, 1+int(w)*3)
		for range h {
			io.ReadFull(pixels, row[1:])
			zw.Write(row)
		}
		zw.Close()
		writeChunk(&b, "IDAT", z.Bytes())
	}
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	io.MultiWriter(b, crc).Write(append([]byte(typ), data...))
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// corruptCRC flips a bit in the CRC of the first chunk (IHDR).
func corruptCRC(png []byte) []byte {
	c := bytes.Clone(png)
	c[8+8+13] ^= 1
	return c
}

func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff) // global colour table of 2
	b = append(b, 0x2c, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 2, 2, 0x4c, 0x01, 0, 0x3b)
}

// jpegHeader is a JFIF header and a frame header, enough for a decoder
// to know the size.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xff, 0xc0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xff, 0xd9)
}

func webpHeader(w, h uint32) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(vp8x)))
	b.WriteString("WEBPVP8X")
	binary.Write(&b, binary.LittleEndian, uint32(len(vp8x)))
	b.Write(vp8x)
	return b.Bytes()
}

func manyFrameGIF(t *testing.T, n int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, 8, 8), palette.Plan9)
		f.SetColorIndex(i%8, 0, uint8(i))
		g.Image, g.Delay = append(g.Image, f), append(g.Delay, 0)
	}
	g.Image[0].Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// heapWatch samples the live heap until stopped and reports its growth.
type heapWatch struct {
	base, peak atomic.Uint64
	done       chan struct{}
}

func watchHeap(t *testing.T) *heapWatch {
	h := &heapWatch{done: make(chan struct{})}
	h.base.Store(heapBytes())
	go func() {
		for {
			select {
			case <-h.done:
				return
			case <-time.After(2 * time.Millisecond):
				if b := heapBytes(); b > h.peak.Load() {
					h.peak.Store(b)
				}
			}
		}
	}()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *heapWatch) stop() int64 {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	return int64(h.peak.Load()) - int64(h.base.Load())
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestLyingAndSlowBodies speaks raw HTTP: a Content-Length longer than the
// body, and a body dripped slower than the read timeout allows.
func TestLyingAndSlowBodies(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_READ_TIMEOUT": "1s"})
	a := s.newAccount(t)
	ct, body := multipartBody(part{"file", "a.jpg", "", photo(t, 32, 32)})
	head := fmt.Sprintf("PATCH /users/image/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n", a.token, ct)

	t.Run("Content-Length longer than the body", func(t *testing.T) {
		half := body[:len(body)/2]
		status := rawRequest(t, s, head+fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)), half, 0)
		if status != 400 {
			t.Fatalf("status %d, want 400", status)
		}
	})
	t.Run("Content-Length shorter than the body", func(t *testing.T) {
		status := rawRequest(t, s, head+fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)/2), body, 0)
		if status != 400 {
			t.Fatalf("status %d, want 400", status)
		}
	})
	t.Run("slow drip past the read timeout", func(t *testing.T) {
		start := time.Now()
		status := rawRequest(t, s, head+fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)), body, 200*time.Millisecond)
		if status != 408 && status != 0 {
			t.Fatalf("status %d, want 408 or a closed connection", status)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("the server held a slow upload for %v", d)
		}
	})
	if r := do(t, "GET", s.base+"/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("unhealthy afterwards: %s", r)
	}
}

// rawRequest writes head, then body (a byte every drip if drip > 0), then
// half-closes, and returns the response status, or 0 if the connection
// was closed without one.
func rawRequest(t *testing.T, s *testServer, head string, body []byte, drip time.Duration) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, head)
	go func() {
		for i := 0; i < len(body); i++ {
			if drip > 0 {
				time.Sleep(drip)
			}
			if _, err := conn.Write(body[i : i+1]); err != nil {
				return
			}
		}
		conn.(*net.TCPConn).CloseWrite()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
