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
	planes [4]plane
	coefs  [4]coefs // progressive only
	bits   bitReader
	nscans int
	work   int64 // coefficient visits so far
	limit  int64 // most coefficient visits allowed
	blk    [64]int32
}

// newRun allocates the planes (and, for progressive files, the
// coefficients) that the plan needs.
func newRun(ctx context.Context, d *Decoder, p plan) *run {
	r := &run{ctx: ctx, d: d, p: p, bits: bitReader{src: d.src}}
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

// checkTables checks that the Huffman tables the scan uses are defined.
func (r *run) checkTables(s *scan) error {
	t := &r.d.tables
	for i := range s.n {
		dc := s.ss == 0 && s.ah == 0
		ac := s.se > 0 && (!r.d.h.Progressive || s.ss > 0)
		if dc && !t.dc[s.td[i]].defined || ac && !t.ac[s.ta[i]].defined {
			return FormatError("uninitialized Huffman table")
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
// checking the context at each row of MCUs. fn decodes the MCU at (mx, my)
// and reports whether bits past the data were used; reset is called at
// each restart.
func (r *run) mcus(s *scan, fn func(mx, my int) error, reset func()) error {
	g, restart := r.grid(s), r.d.tables.restart
	done := r.ctx.Done()
	for my, i := 0, 0; my < g.rows; my++ {
		select {
		case <-done:
			return r.ctx.Err()
		default:
		}
		for mx := range g.cols {
			if restart > 0 && i > 0 && i%restart == 0 {
				if err := r.bits.reset(i/restart - 1); err != nil {
					return err
				}
				reset()
			}
			if err := fn(mx, my); err != nil {
				return err
			}
			if r.bits.overrun() {
				return FormatError("short Huffman data")
			}
			i++
		}
	}
	return nil
}

// sequential decodes a baseline or extended sequential scan, writing the
// pixels of every block within the plan straight to its plane.
func (r *run) sequential(s *scan) error {
	var dc [4]int32
	single := s.n == 1
	return r.mcus(s, func(mx, my int) error {
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
					last, err := r.bits.block(&r.blk, &dc[i], dcT, acT, q)
					if err != nil {
						return err
					}
					r.put(ci, bx, by, last)
				}
			}
		}
		return nil
	}, func() { dc = [4]int32{} })
}

// put writes the block (bx, by) of component ci from r.blk, whose last
// non-zero coefficient has zig-zag index last, if the plan wants it, and
// clears r.blk.
func (r *run) put(ci, bx, by, last int) {
	pl := &r.planes[ci]
	if (image.Point{bx, by}).In(pl.blocks) {
		n := r.p.n
		off := (by-pl.blocks.Min.Y)*n*pl.stride + (bx-pl.blocks.Min.X)*n
		dst := pl.pix[off:]
		switch {
		case n == 1:
			idct1(r.blk[0], dst)
		case n == 2:
			idct2(&r.blk, dst, pl.stride)
		case n == 4:
			idct4(&r.blk, dst, pl.stride)
		case last == 0:
			idctDC(r.blk[0], dst, pl.stride)
		default:
			idct8(&r.blk, dst, pl.stride)
		}
	}
	r.blk = [64]int32{}
}
