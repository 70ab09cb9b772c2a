package thresholdmap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Map is a grid and the cells measured of it, from one directory or
// merged from several.
type Map struct {
	Grid Grid
	// Results are the measured cells in the grid's order.
	Results []Result
	// Missing are the grid's cells without a result.
	Missing []Cell
}

// Build orders the results by the grid and lists the cells missing.
func Build(g Grid, done map[string]Result) Map {
	m := Map{Grid: g}
	for _, c := range g.Cells() {
		if r, ok := done[c.ID()]; ok {
			m.Results = append(m.Results, r)
		} else {
			m.Missing = append(m.Missing, c)
		}
	}
	return m
}

// Merge reads the output directories of the shards of one grid into one
// map. Every directory must hold the same grid (versions and values alike);
// a cell found in two directories must be the same measurement (the same
// file, as a shard's artifact downloaded twice is), and two that differ are
// refused: which one is right is not for merge to guess.
func Merge(dirs ...string) (Map, error) {
	if len(dirs) == 0 {
		return Map{}, errors.New("merging threshold maps: name at least one directory")
	}
	var grid Grid
	from := map[string]string{}
	raw := map[string][]byte{}
	done := map[string]Result{}
	for i, dir := range dirs {
		h, err := readHeader(dir)
		if err != nil {
			return Map{}, fmt.Errorf("merging %s: %w (is it a threshold-map --out directory?)", dir, err)
		}
		if i == 0 {
			grid = h.Grid
		} else if !reflect.DeepEqual(normal(h.Grid), normal(grid)) {
			return Map{}, fmt.Errorf("merging %s: its grid (%s) is not %s's (%s): merge shards of one grid only",
				dir, describe(h.Grid), dirs[0], describe(grid))
		}
		files, err := filepath.Glob(filepath.Join(dir, CellsDir, "*.json"))
		if err != nil {
			return Map{}, err
		}
		for _, f := range files {
			r, b, err := readCell(f)
			if err != nil {
				return Map{}, fmt.Errorf("merging %s: %w", dir, err)
			}
			id := r.Cell.ID()
			if prev, ok := from[id]; ok {
				if !bytes.Equal(raw[id], b) {
					return Map{}, fmt.Errorf("merging: cell %s was measured twice with different results, in %s and %s: "+
						"remove one of the two files (or merge the shards of one run only)", id, prev, f)
				}
				continue
			}
			from[id], raw[id], done[id] = f, b, r
		}
	}
	cells := map[string]bool{}
	for _, c := range grid.Cells() {
		cells[c.ID()] = true
	}
	var foreign []string
	for id := range done {
		if !cells[id] {
			foreign = append(foreign, from[id])
		}
	}
	if len(foreign) > 0 {
		return Map{}, fmt.Errorf("merging: %s not of the grid in %s: remove them", strings.Join(foreign, ", "), GridFile)
	}
	return Build(grid, done), nil
}

// WriteMerged writes the merged map into dir, with a grid.json saying
// it is every shard (1/1), so that the result can itself be merged or
// read again.
func WriteMerged(dir string, m Map) error {
	d, err := OpenDir(dir, m.Grid, Shard{1, 1})
	if err != nil {
		return err
	}
	for _, r := range m.Results {
		if err := d.Save(r); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return Write(dir, m)
}
