package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// Request bodies are read in full before the upstream sees the request, as
// nginx does (proxy_request_buffering on). A gunicorn sync worker serves one
// request at a time and reads the body itself: a client uploading at a few
// bytes per second would hold the only worker, and every other request would
// queue behind it. Behind the proxy the worker gets the whole body at
// loopback speed instead.

// bodyError is a failure to read a client's body, with the status the client
// gets for it.
type bodyError struct {
	status int
	err    error
}

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// bufferedBody is a request body read in full: in memory, or spooled to a
// temporary file once it grew past the memory threshold.
type bufferedBody struct {
	mem  []byte
	file *os.File
	size int64
}

// reader returns a fresh reader over the whole body. Readers are independent,
// so the transport may rewind (GetBody) for a retry.
func (b *bufferedBody) reader() io.ReadCloser {
	if b.file != nil {
		return io.NopCloser(io.NewSectionReader(b.file, 0, b.size))
	}
	return io.NopCloser(bytes.NewReader(b.mem))
}

// release removes the spool file, if any. A transport still reading it gets
// an error, which can only happen after the response was already decided.
func (b *bufferedBody) release() {
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
		b.file = nil
	}
}

// readBody reads r's body in full under the limits of c. It returns nil for
// a request without a body.
func (c *Config) readBody(w http.ResponseWriter, r *http.Request) (*bufferedBody, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	if c.MaxBodyBytes >= 0 && r.ContentLength > c.MaxBodyBytes {
		return nil, tooLarge(c.MaxBodyBytes)
	}
	rc := http.NewResponseController(w)
	src := &deadlineReader{r: r.Body, rc: rc, timeout: c.BodyReadTimeout}
	defer rc.SetReadDeadline(time.Time{})

	limit := c.MaxBodyBytes
	if limit < 0 {
		limit = 1<<63 - 2
	}
	memCap := c.MemoryBodyBytes
	initial := int64(512)
	if r.ContentLength > 0 {
		initial = min(r.ContentLength, memCap)
	}
	buf := bytes.NewBuffer(make([]byte, 0, initial+1))
	n, err := buf.ReadFrom(io.LimitReader(src, min(memCap, limit)+1))
	if err != nil {
		return nil, readFailure(err)
	}
	if n <= memCap && n <= limit {
		return &bufferedBody{mem: buf.Bytes(), size: n}, nil
	}
	if n > limit {
		return nil, tooLarge(c.MaxBodyBytes)
	}

	f, err := os.CreateTemp(c.TempDir, "devstack-body-*")
	if err != nil {
		return nil, &bodyError{status: http.StatusInternalServerError, err: fmt.Errorf("spooling request body: %w", err)}
	}
	b := &bufferedBody{file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.release()
		return nil, &bodyError{status: http.StatusInternalServerError, err: fmt.Errorf("spooling request body: %w", err)}
	}
	rest, err := io.Copy(f, io.LimitReader(src, limit-n+1))
	b.size = n + rest
	switch {
	case err != nil:
		b.release()
		return nil, readFailure(err)
	case b.size > limit:
		b.release()
		return nil, tooLarge(c.MaxBodyBytes)
	}
	return b, nil
}

func tooLarge(max int64) error {
	return &bodyError{status: http.StatusRequestEntityTooLarge,
		err: fmt.Errorf("request body larger than the limit of %d bytes", max)}
}

func readFailure(err error) error {
	status := http.StatusBadRequest
	if errors.Is(err, os.ErrDeadlineExceeded) {
		status = http.StatusRequestTimeout
	}
	return &bodyError{status: status, err: fmt.Errorf("reading request body: %w", err)}
}

// deadlineReader gives the client at most timeout for each piece of the body,
// like nginx's client_body_timeout: a slow but steady upload goes on, a
// stalled one ends.
type deadlineReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	// Not every ResponseWriter supports deadlines (httptest's does not);
	// then only the server's own timeouts apply.
	_ = d.rc.SetReadDeadline(time.Now().Add(d.timeout))
	return d.r.Read(p)
}
