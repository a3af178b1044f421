// Command proxyupstream is the upstream server of bench/proxy.sh: it answers
// every request with the same ~100-byte body, so the benchmark measures the
// proxies in front of it, not the app.
//
//	proxyupstream -listen 127.0.0.1:9000   serve
//	proxyupstream -free-ports 3            print 3 free loopback ports
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

var body = []byte(`{"status":"ok","message":"hello from the benchmark upstream","padding":"0123456789abcdef"}` + "\n")

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	freePorts := flag.Int("free-ports", 0, "print this many free loopback ports and exit")
	flag.Parse()
	if *freePorts > 0 {
		printFreePorts(*freePorts)
		return
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	length := strconv.Itoa(len(body))
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{length}
		w.Write(body)
	})))
}

// printFreePorts holds n listeners open at once, so the ports differ, then
// releases them for the proxies to bind.
func printFreePorts(n int) {
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
}
