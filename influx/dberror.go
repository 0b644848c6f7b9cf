package influx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DatabaseError says that the database named in the settings is not one InfluxDB has,
// or not one the user may see, instead of the answer that revealed it ("database not
// found" or, for a user without admin rights, a 403 whose advice to GRANT rights would
// point the wrong way when the name is mistyped). It names the databases the user can
// read and the setting to change. It wraps that answer (an *HTTPError keeps its meaning
// for retries).
type DatabaseError struct {
	URL     string
	DB      string
	Setting string   // the flag that names the database, e.g. --influx-db
	User    string   // "" when no credentials were sent
	Visible []string // the databases the user may read (SHOW DATABASES)
	// Missing: InfluxDB said the database does not exist (with admin rights or
	// without authentication). Otherwise the user may merely lack rights on it.
	Missing bool
	Err     error
}

func (e *DatabaseError) Error() string {
	var b strings.Builder
	if e.Missing || e.User == "" {
		fmt.Fprintf(&b, "InfluxDB at %s has no database %q", e.URL, e.DB)
	} else {
		fmt.Fprintf(&b, "InfluxDB at %s: no database %q among those user %q may read", e.URL, e.DB, e.User)
	}
	if len(e.Visible) == 0 {
		fmt.Fprintf(&b, ", nor any other: create it (CREATE DATABASE %q) or check %s", e.DB, e.Setting)
	} else {
		fmt.Fprintf(&b, ": set %s to one of: %s", e.Setting, strings.Join(e.Visible, ", "))
		if e.Missing {
			fmt.Fprintf(&b, " (or CREATE DATABASE %q)", e.DB)
		}
	}
	if !e.Missing && e.User != "" {
		fmt.Fprintf(&b, "; if %q does exist, an admin must GRANT READ (or WRITE) ON %q TO %q", e.DB, e.DB, e.User)
	}
	return b.String()
}

func (e *DatabaseError) Unwrap() error { return e.Err }

// databases lists the databases this user may read, without InfluxDB's own _internal.
func (c *conn) databases(ctx context.Context) ([]string, error) {
	res, err := c.rawQuery(ctx, "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, rs := range res {
		for _, s := range allSeries(rs.Series) {
			for _, row := range s.rows {
				if v, _ := toString(s.get(row, "name")); v != "" && v != "_internal" {
					names = append(names, v)
				}
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// checkDatabase turns an answer that may come from a database that is not there (a
// "database not found", or a 403 or 404 for a user who may not see it) into a
// DatabaseError when the database is indeed not among those the user may read; any
// other err is returned as it is.
func (c *conn) checkDatabase(ctx context.Context, err error) error {
	var he *HTTPError
	missing := strings.Contains(err.Error(), "database not found")
	if !missing && !(errors.As(err, &he) && (he.Status == http.StatusForbidden || he.Status == http.StatusNotFound)) {
		return err
	}
	if ctx.Err() != nil {
		return err
	}
	visible, lerr := c.databases(ctx)
	if lerr != nil || slices.Contains(visible, c.db) {
		return err // it is there: the answer meant what it said
	}
	return c.databaseError(ctx, visible, missing, err)
}

// databaseError builds the DatabaseError for c.db, not among visible. An admin (or a
// server without authentication) sees every database, so then it is surely missing.
func (c *conn) databaseError(ctx context.Context, visible []string, missing bool, err error) *DatabaseError {
	if !missing {
		_, aerr := c.rawQuery(ctx, "SHOW USERS") // admins only
		missing = aerr == nil
	}
	return &DatabaseError{URL: c.where(), DB: c.db, Setting: c.dbSetting, User: c.user, Visible: visible, Missing: missing, Err: err}
}
