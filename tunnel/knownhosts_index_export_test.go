package tunnel

// HostKeyIndexAlgorithms is the index's answer for name, and whether kh
// has an index at all.
func HostKeyIndexAlgorithms(kh *KnownHosts, name string) ([]string, bool) {
	if kh.index == nil {
		return nil, false
	}
	return kh.index.algorithms(name), true
}
