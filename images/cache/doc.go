// Package cache is a content-addressed store for the large artefacts lab
// builds or downloads once and reuses: base guest images and etcd binaries.
//
// An entry is a directory <root>/<kind>/<key>/ holding the artefact's files
// and a manifest.json that lists each file with its sha256 and size. The key
// is derived by the caller from what determines the content (a hash of the
// build inputs, or a published digest), so the same request finds the same
// entry.
//
// Entries are built in a staging directory under <root>/tmp (on the same
// filesystem) and renamed into place in one step after the manifest is
// written, so an entry directory either is complete or does not exist: an
// interrupted build or download never leaves a half-written entry visible.
// Staging directories left behind by a killed process (unlocked and older
// than an hour) are removed by a later Stage of the same kind, never through
// a mount point a killed debootstrap left inside. Downloads in progress live
// at PartialPath, outside any staging directory, so they resume across runs.
package cache
