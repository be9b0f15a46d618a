package jpeg

import (
	"bytes"
	"io"

	"golang.org/x/sync/errgroup"
)

// Decoding restart intervals on several goroutines pays once an image has
// enough of them: below these, the goroutines cost more than they save.
// (Variables, so that tests can decode small files in parallel.)
var (
	minParallelIntervals = 4
	minParallelMCUs      = 2048
)

// helpers returns how many extra goroutines may decode the sequential scan
// s, and the function that gives them back; 0 if none.
func (r *run) helpers(s *scan) (int, func()) {
	g, restart := r.grid(s), r.d.tables.restart
	mcus := g.cols * g.rows
	if !r.p.helped || r.d.ra == nil || restart == 0 || mcus < minParallelMCUs || ceilDiv(mcus, restart) < minParallelIntervals {
		return 0, nil
	}
	n, release := r.opts.Helpers(min(maxHelpers, ceilDiv(mcus, restart)-1))
	if n <= 0 {
		release()
		return 0, nil
	}
	return n, release
}

// parallel decodes the restart intervals of a sequential scan on k
// goroutines, each reading its own part of the file through r.d.ra. It
// first finds where every interval starts, reading the scan once, which
// leaves the decoder's source at the marker after the scan.
func (r *run) parallel(s *scan, k int) error {
	g, restart := r.grid(s), r.d.tables.restart
	mcus := g.cols * g.rows
	n := ceilDiv(mcus, restart)
	starts, end, err := r.d.src.restarts(n)
	if err != nil {
		return err
	}
	var eg errgroup.Group
	for j := range k {
		a, b := j*n/k, (j+1)*n/k
		if a == b {
			continue
		}
		hi := end
		if b < n {
			hi = starts[b]
		}
		sec := io.NewSectionReader(r.d.ra, starts[a], hi-starts[a])
		eg.Go(func() error {
			l := &lane{bits: bitReader{src: newSource(sec)}}
			return r.sequentialRange(s, l, a*restart, min(b*restart, mcus))
		})
	}
	return eg.Wait()
}

// restarts reads the entropy-coded data of a scan with n restart
// intervals, from the current position up to the marker that ends it,
// and returns the file offset where each interval starts and that of the
// ending marker. The markers must be RST0, RST1… in turn; any beyond the
// n-1 expected are ignored, as a sequential decode would.
func (s *source) restarts(n int) ([]int64, int64, error) {
	starts := make([]int64, 1, n)
	starts[0] = s.offset()
	for {
		if !s.fill(2) {
			return nil, 0, s.readErr()
		}
		i := bytes.IndexByte(s.buf[s.pos:s.end-1], 0xff)
		if i < 0 {
			s.pos = s.end - 1
			continue
		}
		s.pos += i
		switch m := s.buf[s.pos+1]; {
		case m == 0:
			s.pos += 2
		case m == 0xff:
			s.pos++
		case m >= markerRST0 && m <= markerRST7:
			if len(starts) < n && m != markerRST0+byte((len(starts)-1)&7) {
				return nil, 0, FormatError("bad RST marker")
			}
			s.pos += 2
			if len(starts) < n {
				starts = append(starts, s.offset())
			}
		default:
			if len(starts) < n {
				return nil, 0, FormatError("bad RST marker")
			}
			return starts, s.offset(), nil
		}
	}
}
