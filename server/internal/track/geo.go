package track

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"
)

// Attribution is what must be shown wherever locations from the
// DB-IP database are (CC-BY-4.0).
const (
	AttributionText = "IP Geolocation by DB-IP"
	AttributionURL  = "https://db-ip.com"
)

// Geo finds an address's approximate location in MMDB files such as
// DB-IP's City Lite (one file for IPv4, one for IPv6).
type Geo struct {
	readers []*maxminddb.Reader
	files   []string
}

// OpenGeo opens an .mmdb file, or every .mmdb file in a folder.
func OpenGeo(path string) (*Geo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("location database: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		files, err = filepath.Glob(filepath.Join(path, "*.mmdb"))
		if err != nil {
			return nil, fmt.Errorf("location database: %w", err)
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("location database: no .mmdb file in %s", path)
		}
	}
	g := &Geo{files: files}
	for _, f := range files {
		r, err := maxminddb.Open(f)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("location database %s: %w", f, err)
		}
		g.readers = append(g.readers, r)
	}
	return g, nil
}

// Files lists the files in use.
func (g *Geo) Files() []string { return g.files }

// dbipRecord is the layout of ip-location-db's files.
type dbipRecord struct {
	CountryCode string `maxminddb:"country_code"`
	City        string `maxminddb:"city"`
}

// maxmindRecord is the layout of MaxMind's GeoLite2/GeoIP2 City files.
type maxmindRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
}

// Lookup returns the country code and city of an address; "" when
// unknown (private addresses, no database).
func (g *Geo) Lookup(ip string) (country, city string) {
	if g == nil {
		return "", ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.IsGlobalUnicast() || a.IsPrivate() {
		return "", ""
	}
	a = a.Unmap()
	for _, r := range g.readers {
		if !a.Is4() && r.Metadata.IPVersion == 4 {
			continue // an IPv4-only file cannot answer for IPv6
		}
		res := r.Lookup(a)
		if res.Err() != nil || !res.Found() {
			continue
		}
		var cc, city string
		var d dbipRecord
		if err := res.Decode(&d); err == nil {
			cc, city = d.CountryCode, d.City
		} else {
			var m maxmindRecord
			if err := res.Decode(&m); err != nil {
				continue
			}
			cc, city = m.Country.ISOCode, m.City.Names["en"]
		}
		if cc != "" {
			return strings.ToUpper(cc), city
		}
	}
	return "", ""
}

// Close releases the files.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, r := range g.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
