package tunnel

import (
	"fmt"
	"time"
)

// keepalive sends keepalive@openssh.com every interval and closes the
// connection once max requests in a row went unanswered for an interval
// each, so a frozen or vanished peer is noticed within about
// (max+1)*interval. x/crypto's SendRequest has no deadline and blocks
// further global requests while it waits, so at most one is in flight and
// only Close releases it.
func (c *Client) keepalive(interval time.Duration, max int) {
	defer c.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	var pending chan error
	missed := 0
	for {
		select {
		case <-c.done:
			return
		case err := <-pending:
			pending = nil
			if err != nil {
				return // transport gone: watch reports it
			}
			// OpenSSH answers ok=false: any answer means alive.
			missed = 0
		case <-t.C:
			if pending != nil {
				missed++
				if missed >= max {
					c.fail(fmt.Errorf("tunnel: connection to %s lost: %d keepalives unanswered in %v", c.addr, missed, time.Duration(missed)*interval))
					return
				}
				continue
			}
			pending = make(chan error, 1)
			c.wg.Add(1)
			go func(ch chan<- error) {
				defer c.wg.Done()
				_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
				ch <- err
			}(pending)
		}
	}
}
