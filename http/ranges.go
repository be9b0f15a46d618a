package http

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxRanges is the most byte ranges one image request is served in; a
// request asking for more, after coalescing, gets the whole image (200).
const maxRanges = 8

// rangeGap is the gap below which two ranges are served as one: each
// part of a multipart/byteranges answer costs about this much in headers.
const rangeGap = 128

// byteRange is the bytes [start, end) of an object.
type byteRange struct{ start, end int64 }

// limitRanges rewrites r's Range header, before http.ServeContent reads
// it, so that an answer is never much larger than the object: ranges are
// sorted, and those that overlap or lie closer than rangeGap are merged;
// if more than maxRanges remain, the header is dropped and the whole
// object is served. A header that does not parse, or asks for nothing
// within size, is left for ServeContent to answer (416).
func limitRanges(r *http.Request, size int64) {
	h := r.Header.Get("Range")
	if h == "" {
		return
	}
	ranges, ok := parseRanges(h, size)
	if !ok || len(ranges) == 0 {
		return
	}
	ranges = coalesce(ranges)
	if len(ranges) > maxRanges {
		r.Header.Del("Range")
		return
	}
	specs := make([]string, len(ranges))
	for i, br := range ranges {
		specs[i] = fmt.Sprintf("%d-%d", br.start, br.end-1)
	}
	r.Header.Set("Range", "bytes="+strings.Join(specs, ","))
}

// parseRanges parses a "bytes=" Range header against an object of size
// bytes (RFC 9110, section 14.1.2), skipping the ranges that start past
// its end. ok is false if the header does not parse.
func parseRanges(h string, size int64) (ranges []byteRange, ok bool) {
	specs, found := strings.CutPrefix(h, "bytes=")
	if !found {
		return nil, false
	}
	for spec := range strings.SplitSeq(specs, ",") {
		first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
		if !found {
			return nil, false
		}
		br, ok := parseRange(first, last, size)
		if !ok {
			return nil, false
		}
		if br.start < br.end {
			ranges = append(ranges, br)
		}
	}
	return ranges, true
}

// parseRange parses "first-last", "first-" or "-suffix"; an empty range
// (start past the end) is returned with start >= end.
func parseRange(first, last string, size int64) (byteRange, bool) {
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return byteRange{}, false
		}
		return byteRange{max(0, size-n), size}, true
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return byteRange{}, false
	}
	end := size
	if last != "" {
		l, err := strconv.ParseInt(last, 10, 64)
		if err != nil || l < start {
			return byteRange{}, false
		}
		end = min(size, l+1)
	}
	return byteRange{start, end}, true
}

// coalesce sorts ranges and merges those that overlap or lie closer than
// rangeGap.
func coalesce(ranges []byteRange) []byteRange {
	slices.SortFunc(ranges, func(a, b byteRange) int { return cmp.Compare(a.start, b.start) })
	out := ranges[:1]
	for _, br := range ranges[1:] {
		last := &out[len(out)-1]
		if br.start <= last.end+rangeGap {
			last.end = max(last.end, br.end)
			continue
		}
		out = append(out, br)
	}
	return out
}
