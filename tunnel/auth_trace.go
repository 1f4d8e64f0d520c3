package tunnel

import (
	"io"

	"golang.org/x/crypto/ssh"
)

// tracedAuth is ssh.PublicKeys for signers that, at verbosity 1, say each
// key offered and which one the server accepted ("Server accepts key"): a
// key offered before it, or every key when authentication fails, was
// refused by the server.
func tracedAuth(v *verboser, user string, signers []ssh.Signer, descs []string) ssh.AuthMethod {
	if v == nil || v.w == nil || v.level < 1 {
		return ssh.PublicKeys(signers...)
	}
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		out := make([]ssh.Signer, len(signers))
		for i, s := range signers {
			v.printf("Offering public key to the server for user %q: %s", user, descs[i])
			out[i] = traced(s, descs[i], v)
		}
		return out, nil
	})
}

// traced wraps s so that signing (which happens only once the server has
// accepted the key) is reported. It keeps s's algorithm interfaces, which
// x/crypto uses to pick rsa-sha2 signatures.
func traced(s ssh.Signer, desc string, v *verboser) ssh.Signer {
	base := tracedSigner{Signer: s, desc: desc, v: v}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return &base
	}
	alg := tracedAlgorithmSigner{tracedSigner: base, as: as}
	if ms, ok := s.(ssh.MultiAlgorithmSigner); ok {
		return &tracedMultiSigner{tracedAlgorithmSigner: alg, algs: ms.Algorithms()}
	}
	return &alg
}

type tracedSigner struct {
	ssh.Signer
	desc string
	v    *verboser
}

func (s *tracedSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s.v.printf("Server accepts key: %s", s.desc)
	return s.Signer.Sign(rand, data)
}

type tracedAlgorithmSigner struct {
	tracedSigner
	as ssh.AlgorithmSigner
}

func (s *tracedAlgorithmSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s.v.printf("Server accepts key: %s (%s)", s.desc, algorithm)
	return s.as.SignWithAlgorithm(rand, data, algorithm)
}

type tracedMultiSigner struct {
	tracedAlgorithmSigner
	algs []string
}

func (s *tracedMultiSigner) Algorithms() []string { return s.algs }
