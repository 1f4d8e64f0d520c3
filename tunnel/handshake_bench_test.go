//go:build unix

package tunnel_test

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// BenchmarkClientKexCrypto is the public-key work one SSH connection costs
// the client, alone (no I/O, no server side): the floor under a fan-out's
// CPU per host. Each op is what the client computes in the handshake:
//
//   - kex: an ephemeral key pair and the shared secret
//     (mlkem768x25519-sha256, x/crypto's first choice and OpenSSH 10's
//     default, or plain curve25519-sha256);
//
//   - hostkey: verifying the server's ssh-ed25519 signature on the
//     exchange hash;
//
//   - userauth: signing the session for publickey authentication with an
//     ed25519 key.
//
//     go test ./tunnel -run '^$' -bench ClientKexCrypto
func BenchmarkClientKexCrypto(b *testing.B) {
	msg := sha256.Sum256([]byte("exchange hash"))
	hostPub, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSig := ed25519.Sign(hostPriv, msg[:])
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	server, _ := ecdh.X25519().GenerateKey(rand.Reader)

	x25519 := func(b *testing.B) {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.ECDH(server.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
	// Decapsulation costs the same whatever key the ciphertext was made
	// for (ML-KEM's implicit rejection), so one ciphertext serves all.
	other, _ := mlkem.GenerateKey768()
	_, ct := other.EncapsulationKey().Encapsulate()
	mlkem768 := func(b *testing.B) {
		dk, err := mlkem.GenerateKey768()
		if err != nil {
			b.Fatal(err)
		}
		_ = dk.EncapsulationKey().Bytes() // sent to the server
		if _, err := dk.Decapsulate(ct); err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name string
		op   func(b *testing.B)
	}{
		{"kex=curve25519-sha256", x25519},
		{"kex=mlkem768x25519-sha256", func(b *testing.B) { mlkem768(b); x25519(b) }},
		{"hostkey=ssh-ed25519-verify", func(b *testing.B) {
			if !ed25519.Verify(hostPub, msg[:], hostSig) {
				b.Fatal("verify failed")
			}
		}},
		{"userauth=ed25519-sign", func(b *testing.B) { ed25519.Sign(userPriv, msg[:]) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cpu := processCPU()
			for b.Loop() {
				c.op(b)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkHandshake is one whole SSH connection over loopback TCP, both
// sides in this process (so about twice the client's share): the
// handshake with each key exchange, publickey authentication with an
// ed25519 key, and the close.
//
//	go test ./tunnel -run '^$' -bench 'Handshake$'
func BenchmarkHandshake(b *testing.B) {
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostKey, _ := ssh.NewSignerFromKey(hostPriv)
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	userKey, _ := ssh.NewSignerFromKey(userPriv)
	for _, kex := range []string{"mlkem768x25519-sha256", "curve25519-sha256"} {
		b.Run("kex="+kex, func(b *testing.B) {
			srv := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
			srv.AddHostKey(hostKey)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						sc, chans, reqs, err := ssh.NewServerConn(c, srv)
						if err != nil {
							return
						}
						go ssh.DiscardRequests(reqs)
						for ch := range chans {
							ch.Reject(ssh.Prohibited, "no")
						}
						sc.Close()
					}()
				}
			}()
			cfg := &ssh.ClientConfig{
				User:              "u",
				Auth:              []ssh.AuthMethod{ssh.PublicKeys(userKey)},
				HostKeyCallback:   ssh.FixedHostKey(hostKey.PublicKey()),
				HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
				Config:            ssh.Config{KeyExchanges: []string{kex}},
			}
			cpu := processCPU()
			for b.Loop() {
				c, err := ssh.Dial("tcp", ln.Addr().String(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			reportCPU(b, cpu)
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}
