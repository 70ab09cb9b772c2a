// Package preflight holds the checks that run before lab makes or boots
// anything: what a file given on the command line is (an image, by its
// header) and what this host has room for. Each refusal is a
// *spec.FieldError naming the flag, the problem and the fix.
package preflight
