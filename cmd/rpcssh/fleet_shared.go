package main

import (
	"strings"

	"github.com/rpcssh/rpcssh/tunnel"
)

// shareKnownHosts reads each distinct list of known_hosts files once and
// gives it to every config and jump hop that names it, so a fleet's dials
// do not each parse the files again (with a 1,000-line known_hosts file,
// that parsing was half the client's CPU time on 1,000 hosts).
func shareKnownHosts(cfgs map[string]tunnel.Config) error {
	sets := make(map[string]*tunnel.KnownHosts)
	share := func(cfg *tunnel.Config) error {
		if cfg.KnownHosts != nil || cfg.HostKeyCallback != nil || len(cfg.KnownHostsFiles) == 0 {
			return nil
		}
		key := strings.Join(cfg.KnownHostsFiles, "\x00")
		kh, ok := sets[key]
		if !ok {
			var err error
			if kh, err = tunnel.ReadKnownHosts(cfg.KnownHostsFiles...); err != nil {
				return err
			}
			sets[key] = kh
		}
		cfg.KnownHosts = kh
		return nil
	}
	for h, cfg := range cfgs {
		if err := share(&cfg); err != nil {
			return err
		}
		cfg.Jump = append([]tunnel.Config(nil), cfg.Jump...)
		for i := range cfg.Jump {
			if err := share(&cfg.Jump[i]); err != nil {
				return err
			}
		}
		cfgs[h] = cfg
	}
	return nil
}
