// Package pki makes and keeps the lab's keys: a certificate authority, the
// "kubernetes" key pair that every etcd member uses for serving, for its
// peers and as a client (as in "Kubernetes the hard way"), the SSH key the
// lab logs in with, and one SSH host key per node so the host key can be
// pinned instead of trusted on first use.
//
// Everything is made with crypto/x509 and golang.org/x/crypto/ssh and kept
// as PEM bytes, which is what the NoCloud seed carries. Write stores them in a
// 0700 directory with private keys 0600; Load reads them back, so re-running
// create reuses the lab's identity instead of minting a new one that the
// running guests would not trust.
//
// The keys are ECDSA P-256 rather than the hard way's RSA 2048: etcd's TLS is
// Go's crypto/tls, which handles both, and a P-256 signature costs a small
// fraction of an RSA-2048 one. That matters here because guests often run
// under TCG software emulation, where every peer and client handshake pays
// the full emulated cost, and because tests generate keys on every run.
package pki
