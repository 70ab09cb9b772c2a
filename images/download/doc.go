// Package download fetches large files over HTTP and verifies them against a
// published digest before they are used.
//
// A download goes to "<dest>.part" next to its destination and is renamed
// to the destination only after its digest matches, so a file at the
// destination is always complete and verified. An interrupted or truncated
// transfer keeps the .part file, and the next Get resumes it with a Range
// request when the server honours ranges (206) or starts over cleanly when
// it does not (200). A digest mismatch or a local write failure (a full
// disk) deletes the .part file. A destination that already holds the
// expected bytes is left as it is and nothing is downloaded.
package download
