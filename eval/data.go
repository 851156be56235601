package eval

import (
	"archive/tar"
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"conjure/imaging"
)

// Image is one ground-truth image of an evaluation set.
type Image struct {
	Name string
	X    []float64 // planar 3×H×W in [−1, 1]
	H, W int
}

// LoadImages reads up to limit images (all when limit ≤ 0), after skipping
// the first skip, from path — a directory of PNG/JPEG files, taken in name
// order, or a tar archive of them (the UTKFace shards), taken in archive
// order — as planar R×R images (centre square, antialiased resize). Skipping
// lets a sweep tune on other images than the report measures.
func LoadImages(path string, res, skip, limit int) ([]Image, error) {
	return load(path, skip, limit, func(img image.Image) (Image, error) {
		x, _, err := imaging.Fit(img, res)
		return Image{X: x, H: res, W: res}, err
	})
}

// LoadPhotos reads images as LoadImages does, but whole, at their own
// resolution; with maxSide > 0 a larger side is centre-cropped (not
// resized) to maxSide, so a cheaper evaluation still sees pixels at 1:1.
func LoadPhotos(path string, maxSide, skip, limit int) ([]Image, error) {
	return load(path, skip, limit, func(img image.Image) (Image, error) {
		b := img.Bounds()
		w, h := b.Dx(), b.Dy()
		if maxSide > 0 {
			cw, ch := min(w, maxSide), min(h, maxSide)
			x0, y0 := b.Min.X+(w-cw)/2, b.Min.Y+(h-ch)/2
			img, w, h = crop(img, image.Rect(x0, y0, x0+cw, y0+ch)), cw, ch
		}
		return Image{X: imaging.Planar(img), H: h, W: w}, nil
	})
}

// crop returns the part r of img.
func crop(img image.Image, r image.Rectangle) image.Image {
	dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}

// load reads the images of path (see LoadImages) and converts each with
// conv.
func load(path string, skip, limit int, conv func(image.Image) (Image, error)) ([]Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var imgs []Image
	seen := 0
	add := func(name string, r io.ReadSeeker) error {
		if seen++; seen <= skip {
			return nil
		}
		img, err := imaging.Decode(r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		im, err := conv(img)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		im.Name = name
		imgs = append(imgs, im)
		return nil
	}
	full := func() bool { return limit > 0 && len(imgs) >= limit }
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, e := range entries {
			if !e.IsDir() && isImage(e.Name()) {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names)
		for _, n := range names {
			if full() {
				break
			}
			f, err := os.Open(filepath.Join(path, n))
			if err != nil {
				return nil, err
			}
			err = add(n, f)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		tr := tar.NewReader(f)
		for !full() {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if h.Typeflag != tar.TypeReg || !isImage(h.Name) {
				continue
			}
			if h.Size > 64<<20 {
				return nil, fmt.Errorf("%s: member %s is %d bytes; too large for an image", path, h.Name, h.Size)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if err := add(h.Name, bytes.NewReader(b)); err != nil {
				return nil, err
			}
		}
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("%s: no PNG or JPEG images found", path)
	}
	return imgs, nil
}

func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}
