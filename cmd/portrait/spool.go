package main

import "log/slog"

// spoolBytes returns the bound on the bytes of uploads being received at
// once in dir: --spool-bytes if set above zero; none if below; by default
// half of the space free in dir's file system when the server starts, so
// that uploads alone can never fill the disk that the database (embedded
// setup) and the system share.
func (c *config) spoolBytes(dir string, log *slog.Logger) int64 {
	switch {
	case c.SpoolBytes > 0:
		return c.SpoolBytes
	case c.SpoolBytes < 0:
		return 0
	}
	free, err := freeBytes(dir)
	if err != nil {
		log.Warn("cannot read the free space of the upload folder; uploads are bounded by the disk alone", "dir", dir, "err", err)
		return 0
	}
	limit := free / 2
	log.Info("upload spool bounded", "dir", dir, "free_bytes", free, "spool_bytes", limit)
	return limit
}
