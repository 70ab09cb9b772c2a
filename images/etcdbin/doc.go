// Package etcdbin provides the etcd and etcdctl binaries that lab installs
// on its guests.
//
// There are three sources: Build compiles a version (3.5 or later) from the
// Go module proxy, Fetch downloads and verifies an official release tarball
// (any 3.x release, such as v3.4.7 from the original story), and FromPath
// accepts a binary the user already has. Built and fetched binaries live in
// the content-addressed image cache under the kind "etcd"; Resolve finds
// them again.
package etcdbin
