package portrait

import "testing"

// TestRenormalizeKeepsProviderEmails checks that a renormalisation leaves
// the users made for provider identities out: their address is shown
// only, so it neither keeps nor loses a place among the logins.
func TestRenormalizeKeepsProviderEmails(t *testing.T) {
	changes := RenormalizeEmails([]StoredEmail{
		{ID: "p1", Email: "Ada@example.com", Normalized: ProviderEmail("p1")},
		{ID: "u1", Email: "ADA@example.com", Normalized: "ADA@example.com"},
	})
	if len(changes) != 1 || changes[0] != (EmailChange{ID: "u1", Normalized: "ada@example.com"}) {
		t.Errorf("changes = %+v, want only u1 renormalised, keeping its address", changes)
	}
}
