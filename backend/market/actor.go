package market

// Actor is who makes a call. The zero Actor is an anonymous caller. The transport sets it from
// a verified signature; the services decide what it may do.
type Actor struct {
	UserID string // users.id; empty when anonymous
	Pubkey string // x-only public key, hex
	Admin  bool   // listed as an admin in the server's configuration
}

// Client is where a call comes from: the client's address (never stored raw) and agent.
type Client struct {
	IP        string
	UserAgent string
}

// Anonymous reports whether the caller did not sign the request.
func (a Actor) Anonymous() bool { return a.UserID == "" }

// RequireUser refuses an anonymous caller.
func RequireUser(a Actor) error {
	if a.Anonymous() {
		return Errorf(CodeUnauthenticated, "sign in first: this call needs a NIP-98 signed request")
	}
	return nil
}

// RequireAdmin refuses anyone who is not a configured admin.
func RequireAdmin(a Actor) error {
	if err := RequireUser(a); err != nil {
		return err
	}
	if !a.Admin {
		return Errorf(CodePermissionDenied, "only the server's admins may do this")
	}
	return nil
}
