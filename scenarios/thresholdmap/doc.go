// Package thresholdmap sweeps the slow-disk experiment over a grid (fsync
// latency × election timeout × etcd version × pre-vote) and draws where
// etcd's leadership turns from stable to unstable: the cells, their order
// and shards, a resumable output directory with one file per finished cell,
// the merge of shard outputs, the measured boundary, map.md, map.json and
// one heatmap per version.
//
// The cells run through slowdisk.Session on the lab's VMs; everything else
// here is pure and tested without them.
package thresholdmap
