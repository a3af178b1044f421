// Command loadwatch watches the machine's load during a benchmark run by a
// script (bench/proxy.sh): started in the background with the script's own
// pid as -root, it samples until SIGTERM or SIGINT, then prints two lines:
// the load report (see bench/internal/loadgate) and either "verdict
// allowed" or the reason none may be printed ("no verdict: load X > 2
// cores …"). Exit status 0 either way.
//
//	bench/loadwatch -root $$ >load.txt & watcher=$!
//	… the benchmark …
//	kill -TERM $watcher; wait $watcher
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/devstack-dev/devstack/bench/internal/loadgate"
)

func main() {
	root := flag.Int("root", os.Getppid(), "the pid whose process tree is the benchmark (its work is not counted as other work)")
	flag.Parse()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	w := loadgate.Start(*root)
	<-sig
	r := w.Stop()
	fmt.Println(r)
	if msg := r.NoVerdict(); msg != "" {
		fmt.Println(msg)
	} else {
		fmt.Println("verdict allowed")
	}
}
