package watch

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// limitError recognises inotify's limits. inotify_add_watch fails with
// ENOSPC when fs.inotify.max_user_watches is reached (one watch per
// directory, shared by every program of the user: editors, language
// servers and other watchers count too); inotify_init with EMFILE when
// fs.inotify.max_user_instances is.
func limitError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return &LimitError{Dir: dir, Limit: "fs.inotify.max_user_watches" + current("max_user_watches"), Err: err,
			hint: "raise the limit: sudo sysctl fs.inotify.max_user_watches=524288\n" +
				"(to keep it after a reboot, put fs.inotify.max_user_watches=524288 in /etc/sysctl.d/90-inotify.conf)"}
	case errors.Is(err, syscall.EMFILE):
		return &LimitError{Dir: dir, Limit: "fs.inotify.max_user_instances" + current("max_user_instances"), Err: err,
			hint: "raise the limit: sudo sysctl fs.inotify.max_user_instances=512"}
	}
	return nil
}

// overflowError reports lost events: the kernel queue of
// fs.inotify.max_queued_events filled up before they were read.
func overflowError(err error) error {
	return &LimitError{Limit: "fs.inotify.max_queued_events" + current("max_queued_events"), Err: err,
		hint: "raise the limit: sudo sysctl fs.inotify.max_queued_events=65536"}
}

// current returns " (now N)" for an inotify setting, or "".
func current(name string) string {
	b, err := os.ReadFile("/proc/sys/fs/inotify/" + name)
	if err != nil {
		return ""
	}
	return " (now " + strings.TrimSpace(string(b)) + ")"
}
