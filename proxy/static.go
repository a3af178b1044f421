package proxy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// FileRoot is a directory whose files the proxy serves itself under a URL
// prefix, as production's nginx serves a Django project's STATIC_ROOT and
// MEDIA_ROOT with "location /static/ { alias …; }".
type FileRoot struct {
	// URLPrefix is the request path the directory is served under. It
	// starts and ends with "/", e.g. "/static/" or "/static/downloads/".
	URLPrefix string
	// Dir is the directory, an absolute path. It need not exist: every
	// request looks at it afresh, so files (and the directory itself)
	// added while the proxy runs are served at once.
	Dir string
	// Collected marks a source of collectstatic: the names it leaves out
	// by default ("CVS", "*~") are not served from it. Hidden names (".*")
	// are never served from any root.
	Collected bool
	// FollowLinks lets symbolic links lead out of Dir. Set it only for a
	// directory of an installed package, whose links the package manager
	// made (Debian's python3-django links the admin's jQuery to
	// libjs-jquery's copy, and collectstatic copies what a link leads to,
	// so production serves it). The default refuses such a link with 403,
	// so a project's own tree cannot lead the proxy out of it.
	FollowLinks bool
}

// servedFile is a file the proxy answers a request with.
type servedFile struct {
	f        *os.File
	info     fs.FileInfo
	name     string // the requested name, for its Content-Type
	encoding string // "gzip" or "br" for a precompressed sibling
	vary     bool   // a precompressed sibling exists
}

// staticRefusal is why a request for a path under a file root was refused
// without asking the upstream.
type staticRefusal struct {
	status int
	reason string
}

// serveFiles answers r from the first of roots holding the requested file.
// It returns false when no root does (or r is not a GET or HEAD under one
// of them); the request then goes to the upstream.
func (p *Proxy) serveFiles(w *responseRecorder, r *http.Request, state *requestState, roots []FileRoot) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	var refused *staticRefusal
	for _, root := range roots {
		rest, ok := strings.CutPrefix(r.URL.Path, root.URLPrefix)
		if !ok {
			continue
		}
		file, refusal := openUnder(root, rest, acceptedEncodings(r.Header.Get("Accept-Encoding")))
		if refusal != nil {
			// The app's finders would stop at this root too.
			refused = refusal
			break
		}
		if file == nil {
			continue
		}
		defer file.f.Close()
		state.file = file.f.Name()
		serveFile(w, r, file)
		return true
	}
	if refused == nil {
		return false
	}
	state.clientErr = errors.New(refused.reason)
	p.errorLog.Printf("refused %s: %s", r.URL.Path, refused.reason)
	http.Error(w, http.StatusText(refused.status), refused.status)
	return true
}

// openUnder opens the file at the slash-separated path rest under root, or
// its precompressed sibling when the client accepts one of encodings. It
// returns nil and no refusal when root does not hold such a file.
func openUnder(root FileRoot, rest string, encodings []string) (*servedFile, *staticRefusal) {
	name, refusal := cleanFilePath(rest, root.Collected)
	if refusal != nil || name == "" {
		return nil, refusal
	}
	dir, err := os.OpenRoot(root.Dir)
	if err != nil {
		return nil, nil // the directory does not exist (yet)
	}
	defer dir.Close()
	// The file and its precompressed siblings share a directory: walk to
	// it once. When that fails (no such directory, a link leading out),
	// each lookup walks from the root and says why.
	var sub *os.Root
	if parent := path.Dir(name); parent != "." {
		if sub, err = dir.OpenRoot(parent); err == nil {
			defer sub.Close()
		}
	}
	f, info, err := openFile(dir, sub, root, name)
	if err != nil {
		if errors.Is(err, errEscapes) {
			return nil, &staticRefusal{http.StatusForbidden, fmt.Sprintf("%s leads out of %s through a symbolic link", name, root.Dir)}
		}
		return nil, nil
	}
	file := &servedFile{f: f, info: info, name: name}
	for _, enc := range []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}} {
		zf, zinfo, err := openFile(dir, sub, root, name+enc.suffix)
		if err != nil {
			continue
		}
		file.vary = true
		if file.encoding == "" && contains(encodings, enc.name) {
			f.Close()
			file.f, file.info, file.encoding = zf, zinfo, enc.name
			continue
		}
		zf.Close()
	}
	return file, nil
}

// openFile opens name under dir as openRegular does, looking it up in sub,
// the opened directory of name's parent, when it is not nil: a miss there
// is final, anything else (a link leading out of sub) is looked up again
// from dir.
func openFile(dir, sub *os.Root, root FileRoot, name string) (*os.File, fs.FileInfo, error) {
	if sub != nil {
		f, err := sub.Open(path.Base(name))
		if err == nil {
			return regular(f)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	}
	return openRegular(dir, root, name)
}

// regular returns f with its FileInfo if it is a regular file, and closes
// it otherwise.
func regular(f *os.File) (*os.File, fs.FileInfo, error) {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, info, nil
}

// errEscapes is openRegular's error for a name whose symbolic links lead
// out of the root.
var errEscapes = errors.New("path escapes the root")

// openRegular opens name under dir (root.Dir, opened) if it is a regular
// file inside the tree. A symbolic link out of the tree is refused unless
// root.FollowLinks.
func openRegular(dir *os.Root, root FileRoot, name string) (*os.File, fs.FileInfo, error) {
	f, err := dir.Open(name)
	if err != nil {
		// os.Root says "path escapes from parent" and exports no error
		// value to compare with.
		if !strings.Contains(err.Error(), "escapes") {
			return nil, nil, err
		}
		if !root.FollowLinks {
			return nil, nil, errEscapes
		}
		if f, err = os.Open(filepath.Join(root.Dir, filepath.FromSlash(name))); err != nil {
			return nil, nil, err
		}
	}
	return regular(f)
}

// cleanFilePath checks the part of a request path below a file root and
// returns it as a name relative to the root ("" for the root itself).
// Repeated slashes are merged, as nginx does. A ".." segment or a NUL byte
// is refused with 400 wherever it appears; hidden names, and for collected
// roots the names collectstatic ignores, are not served (the root does not
// hold them, as far as requests go).
func cleanFilePath(rest string, collected bool) (string, *staticRefusal) {
	if strings.ContainsRune(rest, 0) {
		return "", &staticRefusal{http.StatusBadRequest, "NUL byte in the path"}
	}
	var parts []string
	for seg := range strings.SplitSeq(rest, "/") {
		switch {
		case seg == "" || seg == ".":
			continue
		case seg == "..":
			return "", &staticRefusal{http.StatusBadRequest, `".." in the path`}
		case strings.HasPrefix(seg, "."), collected && (seg == "CVS" || strings.HasSuffix(seg, "~")):
			return "", nil
		}
		parts = append(parts, seg)
	}
	return strings.Join(parts, "/"), nil
}

// serveFile writes file with the headers nginx sends for it: its type,
// Last-Modified and an ETag made of the modification time and size (so
// If-None-Match and If-Modified-Since get 304), byte ranges, and for a
// precompressed sibling its Content-Encoding.
func serveFile(w http.ResponseWriter, r *http.Request, file *servedFile) {
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(file.name))
	if ctype == "" {
		ctype = "application/octet-stream" // nginx's default_type; never sniffed
	}
	h.Set("Content-Type", ctype)
	h.Set("ETag", `"`+strconv.FormatInt(file.info.ModTime().Unix(), 16)+"-"+strconv.FormatInt(file.info.Size(), 16)+`"`)
	if file.vary {
		h.Add("Vary", "Accept-Encoding")
	}
	if file.encoding != "" {
		h.Set("Content-Encoding", file.encoding)
	}
	http.ServeContent(w, r, "", file.info.ModTime(), file.f)
}

// acceptedEncodings lists the content codings an Accept-Encoding header
// accepts (q above zero), in lower case.
func acceptedEncodings(header string) []string {
	var out []string
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
				continue
			}
		}
		out = append(out, name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ReadFrom hands a file being served (io.Copy in http.ServeContent) to the
// server's own copy, which reuses pooled buffers (and uses sendfile on a
// plain connection), instead of a 32 KiB buffer allocated per request.
func (w *responseRecorder) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		buf := copyBuffers.Get()
		n, err = io.CopyBuffer(writerOnly{w.ResponseWriter}, r, buf)
		copyBuffers.Put(buf)
	}
	w.bytes += n
	return n, err
}

// writerOnly hides every method but Write, so io.CopyBuffer uses the
// buffer it is given.
type writerOnly struct{ io.Writer }
