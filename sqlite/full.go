package sqlite

import (
	"errors"
	"fmt"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portraitsvc/portrait"
)

// diskFull returns err as EUNAVAILABLE (503, Retry-After) if it is
// SQLITE_FULL: the database or its disk is full, which is no fault of the
// client's and no bug; the cause stays wrapped for the log.
func diskFull(err error) error {
	var e *msqlite.Error
	if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_FULL {
		return err
	}
	return fmt.Errorf("%w: %w", &portrait.Error{Code: portrait.EUNAVAILABLE, RetryAfter: 5,
		Message: "The database is not available right now. Please try again shortly."}, err)
}
