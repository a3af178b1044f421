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
