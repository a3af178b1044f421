package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
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

// bodyMemory counts the bytes of request bodies all requests together hold
// in memory, so that many clients each declaring a large body cannot make
// the proxy hold more than its limit: a body that would go past it spills
// to a temporary file, as nginx spills past client_body_buffer_size.
type bodyMemory struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64 // the most ever used at once
}

// take reserves n bytes, if the limit allows.
func (m *bodyMemory) take(n int64) bool {
	for {
		used := m.used.Load()
		if used+n > m.limit {
			return false
		}
		if m.used.CompareAndSwap(used, used+n) {
			for peak := m.peak.Load(); used+n > peak && !m.peak.CompareAndSwap(peak, used+n); peak = m.peak.Load() {
			}
			return true
		}
	}
}

func (m *bodyMemory) give(n int64) { m.used.Add(-n) }

// bodyBuffers holds what the proxy's requests share while reading bodies.
type bodyBuffers struct {
	memory bodyMemory
	spools chan struct{} // one token per body spooled to a file
}

func newBodyBuffers(c *Config) *bodyBuffers {
	return &bodyBuffers{memory: bodyMemory{limit: c.MemoryBodyBytesTotal}, spools: make(chan struct{}, c.MaxSpooledBodies)}
}

// bufferedBody is a request body read in full: in memory, or spooled to a
// temporary file once it grew past what memory may hold.
type bufferedBody struct {
	mem     []byte
	file    *os.File
	size    int64
	buffers *bodyBuffers
	held    int64 // bytes of memory reserved for mem
}

// reader returns a fresh reader over the whole body. Readers are independent,
// so the transport may rewind (GetBody) for a retry.
func (b *bufferedBody) reader() io.ReadCloser {
	if b.file != nil {
		return io.NopCloser(io.NewSectionReader(b.file, 0, b.size))
	}
	return io.NopCloser(bytes.NewReader(b.mem))
}

// release gives back the body's memory and removes its spool file, if any.
// A transport still reading the file gets an error, which can only happen
// after the response was already decided.
func (b *bufferedBody) release() {
	b.freeMemory()
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
		b.file = nil
		<-b.buffers.spools
	}
}

func (b *bufferedBody) freeMemory() {
	b.buffers.memory.give(b.held)
	b.held = 0
}

// firstBodyBuffer is the size of the buffer a body's first bytes are read
// into; it doubles as more arrive. A declared Content-Length is a promise
// the client may not keep, so no more is set aside before bytes arrive.
const firstBodyBuffer = 512

// readBody reads r's body in full under the limits of p's Config. It
// returns nil for a request without a body.
func (p *Proxy) readBody(w http.ResponseWriter, r *http.Request) (*bufferedBody, error) {
	c := &p.cfg
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	if c.MaxBodyBytes >= 0 && r.ContentLength > c.MaxBodyBytes {
		return nil, tooLarge(c.MaxBodyBytes)
	}
	rc := http.NewResponseController(w)
	src := &deadlineReader{r: r.Body, rc: rc, timeout: c.BodyReadTimeout, counted: c.testOnlyBodyRead}
	defer rc.SetReadDeadline(time.Time{})

	limit := c.MaxBodyBytes
	if limit < 0 {
		limit = 1<<63 - 2
	}
	memCap := min(c.MemoryBodyBytes, limit)
	declared := r.ContentLength // -1: unknown until the end
	b := &bufferedBody{buffers: p.bodies}
	var buf []byte
	for declared < 0 || int64(len(buf)) < declared {
		if len(buf) == cap(buf) {
			next := min(max(2*int64(cap(buf)), firstBodyBuffer), memCap)
			if declared >= 0 {
				next = min(next, declared)
			}
			if next <= int64(cap(buf)) || !p.bodies.memory.take(next-b.held) {
				b.mem, b.size = buf, int64(len(buf))
				return p.spill(r, b, src, limit)
			}
			b.held = next
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			b.freeMemory()
			return nil, readFailure(err)
		}
	}
	b.mem, b.size = buf, int64(len(buf))
	return b, nil
}

// spill moves b, read so far into memory, to a temporary file and reads the
// rest of the body there. Spooled bodies are bounded in number: a body that
// finds them all in use waits for one to end, as long as a client may take
// for the next piece of its body.
func (p *Proxy) spill(r *http.Request, b *bufferedBody, src io.Reader, limit int64) (*bufferedBody, error) {
	c := &p.cfg
	wait := time.NewTimer(c.BodyReadTimeout)
	defer wait.Stop()
	select {
	case p.bodies.spools <- struct{}{}:
	case <-wait.C:
		b.freeMemory()
		return nil, &bodyError{status: http.StatusServiceUnavailable,
			err: fmt.Errorf("spooling request body: %d other bodies are being spooled", cap(p.bodies.spools))}
	case <-r.Context().Done():
		b.freeMemory()
		return nil, readFailure(r.Context().Err())
	}
	f, err := os.CreateTemp(c.TempDir, "devstack-body-*")
	if err != nil {
		<-p.bodies.spools
		b.freeMemory()
		return nil, &bodyError{status: http.StatusInternalServerError, err: fmt.Errorf("spooling request body: %w", err)}
	}
	b.file = f
	_, err = f.Write(b.mem)
	b.mem = nil
	b.freeMemory()
	if err != nil {
		b.release()
		return nil, &bodyError{status: http.StatusInternalServerError, err: fmt.Errorf("spooling request body: %w", err)}
	}
	copyBuf := copyBuffers.Get()
	rest, err := io.CopyBuffer(onlyWriter{f}, io.LimitReader(src, limit-b.size+1), copyBuf)
	copyBuffers.Put(copyBuf)
	b.size += rest
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

// onlyWriter hides the file's ReadFrom, so io.CopyBuffer uses the buffer
// it is given instead of allocating one.
type onlyWriter struct{ io.Writer }

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
	counted func(n int) // nil, or told how many bytes each read brought
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	// Not every ResponseWriter supports deadlines (httptest's does not);
	// then only the server's own timeouts apply.
	_ = d.rc.SetReadDeadline(time.Now().Add(d.timeout))
	n, err := d.r.Read(p)
	if d.counted != nil && n > 0 {
		d.counted(n)
	}
	return n, err
}
