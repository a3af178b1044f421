package certs

import "errors"

// ErrNoCA reports that the CA directory holds no CA yet. Load returns it
// (wrapped, with a hint) so callers can choose to mint one.
var ErrNoCA = errors.New("no local CA found")

// ErrKeyless reports a CA whose directory holds rootCA.pem but no
// rootCA-key.pem (mkcert's keyless mode): it can be trusted, not used to sign.
var ErrKeyless = errors.New("the CA has no private key")

// errKeyWithoutCert: rootCA-key.pem is there, rootCA.pem is not. It is
// never treated as "no CA": minting would replace a key that may belong to a
// trusted certificate.
var errKeyWithoutCert = errors.New("the CA certificate is missing")

// hintError is an error that also knows the one thing the user should do
// about it. The CLI prints Hint() after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// Hint is the one action that fixes the error.
func (e *hintError) Hint() string { return e.hint }

func withHint(err error, hint string) error {
	if hint == "" {
		return err
	}
	return &hintError{err: err, hint: hint}
}
