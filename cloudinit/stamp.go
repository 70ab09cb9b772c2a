package cloudinit

import (
	"bytes"
	"fmt"
	"io"
)

// The primary volume descriptor is sector 16; its four date fields (ISO 9660
// §8.4.26–8.4.29: creation, modification, expiration, effective) are 17
// bytes each from offset 813.
const (
	pvdOffset       = 16 * 2048
	pvdDatesOffset  = pvdOffset + 813
	pvdDateLen      = 17
	pvdDateCount    = 4
	pvdTypePrimary  = 1
	pvdStandardID   = "CD001"
	pvdTypeAt       = pvdOffset
	unspecifiedDate = "0000000000000000\x00"
)

// ClearISODates sets the volume descriptor's dates, which iso9660 takes from
// the clock, to ISO 9660's "not specified". The same seed then gives the
// same bytes on every run, which is what makes `lab render` show exactly
// what `lab create` uploads.
func ClearISODates(f io.ReaderAt, w io.WriterAt) error {
	head := make([]byte, 6)
	if _, err := f.ReadAt(head, pvdTypeAt); err != nil {
		return fmt.Errorf("reading the ISO's volume descriptor: %w", err)
	}
	if head[0] != pvdTypePrimary || string(head[1:6]) != pvdStandardID {
		return fmt.Errorf("clearing ISO dates: sector 16 is not a primary volume descriptor")
	}
	dates := bytes.Repeat([]byte(unspecifiedDate), pvdDateCount)
	if _, err := w.WriteAt(dates, pvdDatesOffset); err != nil {
		return fmt.Errorf("clearing the ISO's dates: %w", err)
	}
	return nil
}
