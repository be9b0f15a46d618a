package jpeg

import (
	"context"
	"image"
)

// run is the state of one Decode.
type run struct {
	ctx    context.Context
	d      *Decoder
	p      plan
	opts   Options
	planes [4]plane
	coefs  [4]coefs // progressive only
	lane            // the bits and block of the decode's own goroutine
	nscans int
	work   int64 // coefficient visits so far
	limit  int64 // most coefficient visits allowed
}

// lane is what each goroutine decoding entropy-coded data has of its own.
type lane struct {
	bits bitReader
	blk  [64]int32
}

// newRun allocates the planes (and, for progressive files, the
// coefficients) that the plan needs.
func newRun(ctx context.Context, d *Decoder, p plan) *run {
	r := &run{ctx: ctx, d: d, p: p, lane: lane{bits: bitReader{src: d.src}}}
	for i := range d.frame.comps {
		c := &d.frame.comps[i]
		b := p.blocks(c)
		r.planes[i] = plane{pix: make([]uint8, b.Dx()*b.Dy()*p.n*p.n), stride: b.Dx() * p.n, blocks: b}
		r.limit += MaxWorkFactor * 64 * int64(c.bw) * int64(c.bh)
		if d.h.Progressive {
			r.coefs[i] = newCoefs(c, b, p.n)
		}
	}
	return r
}

// scans decodes the scan whose header NewDecoder read and every scan
// after it, up to EOI.
func (r *run) scans() error {
	for {
		if err := r.scan(&r.d.frame.next); err != nil {
			return err
		}
		eoi, err := r.d.nextScan()
		if err != nil {
			return err
		}
		if eoi {
			break
		}
	}
	if r.d.h.Progressive {
		return r.reconstruct()
	}
	return nil
}

// scan decodes one scan, after checking the bounds and the context.
func (r *run) scan(s *scan) error {
	if r.nscans++; r.nscans > MaxScans {
		return LimitError("more than 64 scans; save the image again as a baseline JPEG")
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if err := r.charge(s); err != nil {
		return err
	}
	if err := r.checkTables(s); err != nil {
		return err
	}
	r.bits = bitReader{src: r.d.src}
	if r.d.h.Progressive {
		return r.progressive(s)
	}
	return r.sequential(s)
}

// charge adds the coefficient visits of s to the work done, and fails if
// that exceeds the bound.
func (r *run) charge(s *scan) error {
	for i := range s.n {
		c := &r.d.frame.comps[s.comp[i]]
		blocks := int64(c.bw) * int64(c.bh)
		if s.n == 1 {
			blocks = int64(c.cw) * int64(c.ch)
		}
		r.work += blocks * int64(s.se-s.ss+1)
	}
	if r.work > r.limit {
		return LimitError("its scans decode each coefficient more than 8 times; save the image again")
	}
	return nil
}

// checkTables checks that the Huffman and quantisation tables the scan
// uses are defined, as libjpeg does.
func (r *run) checkTables(s *scan) error {
	t := &r.d.tables
	for i := range s.n {
		if !t.hasQuant[r.d.frame.comps[s.comp[i]].tq] {
			return FormatError("undefined quantization table")
		}
		dc := s.ss == 0 && s.ah == 0
		ac := s.se > 0 && (!r.d.h.Progressive || s.ss > 0)
		if dc && !t.dc[s.td[i]].defined || ac && !t.ac[s.ta[i]].defined {
			return FormatError("uninitialized Huffman table")
		}
		if dc && t.dc[s.td[i]].maxSymbol > 15 {
			return FormatError("DC Huffman table with a symbol above 15") // as libjpeg judges it
		}
	}
	return nil
}

// grid describes the MCUs of a scan: an interleaved scan walks the MCUs of
// the frame, a scan of one component each of its blocks.
type grid struct {
	cols, rows int
	single     bool
}

func (r *run) grid(s *scan) grid {
	if s.n == 1 {
		c := &r.d.frame.comps[s.comp[0]]
		return grid{cols: c.cw, rows: c.ch, single: true}
	}
	return grid{cols: r.d.frame.mcusX, rows: r.d.frame.mcusY}
}

// mcus calls fn for every MCU of the scan, handling restart intervals and
// checking the context at each row of MCUs; see mcuRange.
func (r *run) mcus(s *scan, fn func(l *lane, mx, my int) error, reset func()) error {
	g := r.grid(s)
	return r.mcuRange(s, &r.lane, 0, g.cols*g.rows, fn, reset)
}

// mcuRange calls fn for the MCUs of index first to end-1 of the scan,
// first being the start of a restart interval, with the lane l. fn decodes
// the MCU at (mx, my); reset is called at each restart. It fails if fn
// used bits past the data, and checks the context at every row of MCUs.
func (r *run) mcuRange(s *scan, l *lane, first, end int, fn func(l *lane, mx, my int) error, reset func()) error {
	cols, restart := r.grid(s).cols, r.d.tables.restart
	done := r.ctx.Done()
	for i := first; i < end; i++ {
		mx, my := i%cols, i/cols
		if mx == 0 || i == first {
			select {
			case <-done:
				return r.ctx.Err()
			default:
			}
		}
		if restart > 0 && i > first && i%restart == 0 {
			if err := l.bits.reset(i/restart - 1); err != nil {
				return err
			}
			reset()
		}
		if err := fn(l, mx, my); err != nil {
			return err
		}
		if l.bits.overrun() {
			return FormatError("short Huffman data")
		}
	}
	return nil
}

// sequential decodes a baseline or extended sequential scan, writing the
// pixels of every block within the plan straight to its plane, on several
// goroutines if restart intervals allow and helpers are granted.
func (r *run) sequential(s *scan) error {
	if k, release := r.helpers(s); k > 0 {
		defer release()
		return r.parallel(s, k+1)
	}
	g := r.grid(s)
	return r.sequentialRange(s, &r.lane, 0, g.cols*g.rows)
}

// sequentialRange decodes the MCUs first to end-1 of a sequential scan
// with the lane l.
func (r *run) sequentialRange(s *scan, l *lane, first, end int) error {
	var dc [4]int32
	single := s.n == 1
	return r.mcuRange(s, l, first, end, func(l *lane, mx, my int) error {
		for i := range s.n {
			ci := s.comp[i]
			c := &r.d.frame.comps[ci]
			dcT, acT := &r.d.tables.dc[s.td[i]], &r.d.tables.ac[s.ta[i]]
			q := &r.d.tables.quant[c.tq]
			h, v := c.H, c.V
			if single {
				h, v = 1, 1
			}
			for by := my * v; by < my*v+v; by++ {
				for bx := mx * h; bx < mx*h+h; bx++ {
					last, err := l.bits.block(&l.blk, &dc[i], dcT, acT, q)
					if err != nil {
						return err
					}
					r.put(&l.blk, ci, bx, by, last)
				}
			}
		}
		return nil
	}, func() { dc = [4]int32{} })
}

// put writes the block (bx, by) of component ci from blk, whose last
// non-zero coefficient has zig-zag index last, if the plan wants it, and
// clears blk.
func (r *run) put(blk *[64]int32, ci, bx, by, last int) {
	pl := &r.planes[ci]
	if (image.Point{bx, by}).In(pl.blocks) {
		n := r.p.n
		off := (by-pl.blocks.Min.Y)*n*pl.stride + (bx-pl.blocks.Min.X)*n
		dst := pl.pix[off:]
		switch {
		case n == 1:
			idct1(blk[0], dst)
		case n == 2:
			idct2(blk, dst, pl.stride)
		case n == 4:
			idct4(blk, dst, pl.stride)
		case last == 0:
			idctDC(blk[0], dst, pl.stride)
		default:
			idct8(blk, dst, pl.stride)
		}
	}
	*blk = [64]int32{}
}
