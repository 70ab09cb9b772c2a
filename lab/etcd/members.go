package etcd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
)

// Member statuses as etcdctl shows them: a member that has not yet joined
// has no name.
const (
	MemberStarted   = "started"
	MemberUnstarted = "unstarted"
)

// Member is one cluster member as the cluster lists it.
type Member struct {
	ID         MemberID `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	// Status is MemberStarted or MemberUnstarted.
	Status    string `json:"status"`
	IsLearner bool   `json:"isLearner"`
}

// Members lists the cluster's members (a linearizable read, so it needs a
// quorum, like etcdctl member list).
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	resp, err := c.cli.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing etcd members via %v: %w", c.cfg.Endpoints, err)
	}
	members := make([]Member, 0, len(resp.Members))
	for _, m := range resp.Members {
		status := MemberStarted
		if m.Name == "" {
			status = MemberUnstarted
		}
		members = append(members, Member{
			ID:         MemberID(m.ID),
			Name:       m.Name,
			PeerURLs:   m.PeerURLs,
			ClientURLs: m.ClientURLs,
			Status:     status,
			IsLearner:  m.IsLearner,
		})
	}
	return members, nil
}

// MemberTable writes members exactly as `etcdctl member list -w table` prints
// them, in the order given (etcdctl keeps the server's order). It uses the
// table writer and settings etcdctl 3.6 uses.
func MemberTable(w io.Writer, members []Member) error {
	var buf bytes.Buffer
	table := tablewriter.NewWriter(&buf)
	table.SetHeader([]string{"ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"})
	for _, m := range members {
		table.Append([]string{
			m.ID.String(),
			m.Status,
			m.Name,
			strings.Join(m.PeerURLs, ","),
			strings.Join(m.ClientURLs, ","),
			fmt.Sprint(m.IsLearner),
		})
	}
	table.SetAlignment(tablewriter.ALIGN_RIGHT)
	table.Render()
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing member table: %w", err)
	}
	return nil
}
