// Command capture turns the stderr of an etcd process into systemd's journal
// export format, as the journal of the lab's nodes would have recorded it, so
// that systemd-journal-remote can store it and journalctl print it exactly as
// `journalctl -u etcd -o short-iso-precise` does on a node. capture.sh runs
// it; it is not part of the lab.
//
// Under systemd etcd 3.5+ writes zap JSON lines to stderr, which the journal
// keeps whole. etcd 3.4 logs through capnslog, which, when its parent is PID
// 1 and the journal socket exists, sends each message straight to the journal
// without its own timestamp, level or package prefix (capnslog's
// journaldFormatter); run by hand it prints "2006-01-02 15:04:05.000000 W |
// pkg: message" instead. With -capnslog the prefix is parsed for the time and
// dropped, as the journal would have done.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
	"time"
)

var (
	pretty = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) ([A-Z]) \| (?:[\w./-]+: )?(.*)$`)
	// etcd 3.4's raft logs through Go's log package with the prefix "raft"
	// to stderr, which the journal keeps whole.
	goLog = regexp.MustCompile(`^raft(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) `)
)

func main() {
	host := flag.String("host", "k8smaster0", "_HOSTNAME of the entries")
	pid := flag.Int("pid", 0, "_PID of the entries")
	capnslog := flag.Bool("capnslog", false, "input is etcd 3.4's capnslog pretty format")
	flag.Parse()

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var last time.Time
	var seq int64
	for in.Scan() {
		line := in.Text()
		at, prio, msg := last, 6, line
		if *capnslog {
			if m := pretty.FindStringSubmatch(line); m != nil {
				t, err := time.ParseInLocation("2006-01-02 15:04:05.000000", m[1], time.Local)
				if err != nil {
					log.Fatal(err)
				}
				at, prio, msg = t, capnslogPriority(m[2]), m[3]
			} else if m := goLog.FindStringSubmatch(line); m != nil {
				t, err := time.ParseInLocation("2006/01/02 15:04:05", m[1], time.Local)
				if err != nil {
					log.Fatal(err)
				}
				// Keep the finer time of the line before when it falls in
				// the same second.
				if !t.Equal(last.Truncate(time.Second)) {
					at = t
				}
			}
		} else {
			var z struct {
				Level string    `json:"level"`
				TS    time.Time `json:"ts"`
			}
			if json.Unmarshal([]byte(line), &z) == nil && !z.TS.IsZero() {
				at, prio = z.TS, zapPriority(z.Level)
			}
		}
		if at.IsZero() || strings.TrimSpace(msg) == "" {
			continue
		}
		last = at
		seq++
		fmt.Fprintf(out, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n", at.UnixMicro(), seq)
		fmt.Fprintf(out, "_BOOT_ID=%032x\n_HOSTNAME=%s\n_PID=%d\n_COMM=etcd\n", len(*host), *host, *pid)
		fmt.Fprintf(out, "_SYSTEMD_UNIT=etcd.service\nSYSLOG_IDENTIFIER=etcd\nPRIORITY=%d\n", prio)
		fmt.Fprintf(out, "MESSAGE=%s\n\n", msg)
	}
	if err := in.Err(); err != nil {
		log.Fatal(err)
	}
}

func capnslogPriority(l string) int {
	switch l {
	case "C":
		return 2
	case "E":
		return 3
	case "W":
		return 4
	case "N":
		return 5
	case "D", "T":
		return 7
	}
	return 6
}

func zapPriority(l string) int {
	switch l {
	case "fatal", "panic", "dpanic":
		return 2
	case "error":
		return 3
	case "warn":
		return 4
	case "debug":
		return 7
	}
	return 6
}
