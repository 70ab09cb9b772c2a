package thresholdmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/atomicfile"
)

// The layout of an output directory.
const (
	GridFile    = "grid.json"
	CellsDir    = "cells"
	EvidenceDir = "evidence"
	MapMarkdown = "map.md"
	MapJSON     = "map.json"
)

// header is grid.json: the grid a directory's cells belong to, and which
// shard of it the directory runs.
type header struct {
	Grid  Grid   `json:"grid"`
	Shard string `json:"shard"`
}

// Dir is an output directory: grid.json, one file per finished cell under
// cells/, the cells' evidence, and the map.
type Dir struct {
	Path  string
	Grid  Grid
	Shard Shard
}

// OpenDir prepares path for the grid's shard. A directory that already
// holds a grid must hold this one (the same shard of it): resuming a map
// with other values would mix two experiments.
func OpenDir(path string, g Grid, s Shard) (*Dir, error) {
	d := &Dir{Path: path, Grid: g, Shard: s}
	h, err := readHeader(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Join(path, CellsDir), 0o755); err != nil {
			return nil, fmt.Errorf("creating the map directory %s: %w", path, err)
		}
		b, _ := json.MarshalIndent(header{Grid: g, Shard: s.String()}, "", "  ")
		if err := atomicfile.Write(filepath.Join(path, GridFile), append(b, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", GridFile, err)
		}
		return d, nil
	case err != nil:
		return nil, err
	}
	if !reflect.DeepEqual(normal(h.Grid), normal(g)) {
		return nil, fmt.Errorf("--out %s holds a map of another grid (%s): use a new --out, or the same flags as before to resume it",
			path, describe(h.Grid))
	}
	if h.Shard != s.String() {
		return nil, fmt.Errorf("--out %s holds shard %s of this grid, not %s: give --shard %s to resume it, or use a new --out",
			path, h.Shard, s, h.Shard)
	}
	return d, os.MkdirAll(filepath.Join(path, CellsDir), 0o755)
}

func readHeader(dir string) (header, error) {
	var h header
	b, err := os.ReadFile(filepath.Join(dir, GridFile))
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("reading %s: %w", filepath.Join(dir, GridFile), err)
	}
	// Its versions become file names (the heatmaps): a grid from a file
	// is checked as the flags are.
	if err := h.Grid.Check(); err != nil {
		return h, fmt.Errorf("%s holds a grid lab would refuse: %w", filepath.Join(dir, GridFile), err)
	}
	return h, nil
}

// normal is the grid with its values sorted: the same grid given in
// another order is the same grid.
func normal(g Grid) Grid {
	g.Fsync, g.Election = slices.Clone(g.Fsync), slices.Clone(g.Election)
	slices.Sort(g.Fsync)
	slices.Sort(g.Election)
	return g
}

func describe(g Grid) string {
	var f, e []string
	for _, d := range g.Fsync {
		f = append(f, d.String())
	}
	for _, d := range g.Election {
		e = append(e, d.String())
	}
	return fmt.Sprintf("--fsync %s --election %s --versions %s --heartbeat-ratio %d --cell-duration %s --repeats %d, pre-vote off cells %t",
		strings.Join(f, ","), strings.Join(e, ","), strings.Join(g.Versions, ","), g.HeartbeatRatio, g.CellDuration, g.Repeats, g.PreVote)
}

func (d *Dir) cellPath(c Cell) string { return filepath.Join(d.Path, CellsDir, c.ID()+".json") }

// Save writes a finished cell's file at once, atomically: a cell cut off
// before Save has no file and runs again on resume.
func (d *Dir) Save(r Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(d.cellPath(r.Cell), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing cell %s: %w", r.Cell.ID(), err)
	}
	return nil
}

// Done reads the finished cells of the grid from the directory, keyed by
// Cell.ID. A file that does not read is an error: it names the file to
// remove (it would otherwise be measured again without a word).
func (d *Dir) Done() (map[string]Result, error) {
	return readCells(d.Path)
}

func readCells(dir string) (map[string]Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, CellsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]Result{}
	for _, f := range files {
		r, _, err := readCell(f)
		if err != nil {
			return nil, err
		}
		out[r.Cell.ID()] = r
	}
	return out, nil
}

func readCell(path string) (Result, []byte, error) {
	var r Result
	b, err := os.ReadFile(path)
	if err != nil {
		return r, nil, fmt.Errorf("reading cell file: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, nil, fmt.Errorf("reading cell file %s: %w (remove it to measure the cell again)", path, err)
	}
	if filepath.Base(path) != r.Cell.ID()+".json" {
		return r, nil, fmt.Errorf("cell file %s holds cell %s: remove it, or give it its name back", path, r.Cell.ID())
	}
	return r, bytes.TrimSpace(b), nil
}

// Todo is the shard's cells without a file, in order.
func (d *Dir) Todo() ([]Cell, map[string]Result, error) {
	done, err := d.Done()
	if err != nil {
		return nil, nil, err
	}
	var todo []Cell
	for _, c := range d.Shard.Of(d.Grid.Cells()) {
		if _, ok := done[c.ID()]; !ok {
			todo = append(todo, c)
		}
	}
	return todo, done, nil
}
