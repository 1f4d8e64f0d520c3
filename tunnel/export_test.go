package tunnel

// WithoutQuickAck returns cfg with the TCP_QUICKACK wrapper turned off, so
// benchmarks can show what it buys.
func WithoutQuickAck(cfg Config) Config {
	cfg.noQuickAck = true
	return cfg
}
