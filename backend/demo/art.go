package demo

import (
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Sizes of the demo's generated images.
const (
	coverW, coverH = 630, 500
	shotW, shotH   = 1280, 720
	// Screenshots is how many screenshots each demo game has.
	Screenshots = 3
)

// scene paints one picture of a demo game: the same game always looks the same, and each
// variant (0 the cover, then the screenshots) moves its pieces, deterministically, so that a
// second load uploads the same bytes.
type scene struct {
	img *image.RGBA
	rng *rand.Rand
}

// art draws image variant of the game with slug: the cover (variant 0, coverW by coverH, with
// the title) or a screenshot (shotW by shotH).
func art(slug, title string, variant int) *image.RGBA {
	w, h := shotW, shotH
	if variant == 0 {
		w, h = coverW, coverH
	}
	seed := fnv.New64a()
	seed.Write([]byte(slug))
	s := scene{img: image.NewRGBA(image.Rect(0, 0, w, h)), rng: rand.New(rand.NewPCG(seed.Sum64(), uint64(variant)))}
	switch slug {
	case "lantern-drift":
		s.river()
	case "pocket-orbits":
		s.orbits()
	case "moss-and-mortar":
		s.wall()
	default:
		s.valley()
	}
	if variant == 0 {
		s.title(title)
	}
	return s.img
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// gradient fills the picture from top to bottom, from a to b.
func (s scene) gradient(a, b color.RGBA) {
	r := s.img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		t := float64(y) / float64(r.Dy())
		c := mix(a, b, t)
		draw.Draw(s.img, image.Rect(r.Min.X, y, r.Max.X, y+1), image.NewUniform(c), image.Point{}, draw.Src)
	}
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// blend paints c over the pixel at (x, y) with opacity a (0 to 1).
func (s scene) blend(x, y int, c color.RGBA, a float64) {
	if !(image.Point{x, y}.In(s.img.Bounds())) || a <= 0 {
		return
	}
	s.img.SetRGBA(x, y, mix(s.img.RGBAAt(x, y), c, min(a, 1)))
}

// disc paints a filled circle with a soft edge, and a glow of radius glow around it.
func (s scene) disc(cx, cy, r float64, c color.RGBA, glow float64) {
	reach := r + glow + 1
	for y := int(cy - reach); y <= int(cy+reach); y++ {
		for x := int(cx - reach); x <= int(cx+reach); x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			switch {
			case d <= r:
				s.blend(x, y, c, r-d+0.5)
			case glow > 0 && d < r+glow:
				s.blend(x, y, c, 0.45*(1-(d-r)/glow)*(1-(d-r)/glow))
			}
		}
	}
}

// ring paints an ellipse's outline.
func (s scene) ring(cx, cy, rx, ry float64, c color.RGBA, a float64) {
	steps := int(2 * math.Pi * max(rx, ry))
	for i := range steps {
		t := 2 * math.Pi * float64(i) / float64(steps)
		s.blend(int(cx+rx*math.Cos(t)), int(cy+ry*math.Sin(t)), c, a)
	}
}

func (s scene) rect(r image.Rectangle, c color.RGBA) {
	draw.Draw(s.img, r, image.NewUniform(c), image.Point{}, draw.Over)
}

func (s scene) size() (float64, float64) {
	b := s.img.Bounds()
	return float64(b.Dx()), float64(b.Dy())
}

// river: a paper lantern on a night river, stars above, shrines on the bank.
func (s scene) river() {
	w, h := s.size()
	s.gradient(rgb(8, 12, 38), rgb(22, 40, 84))
	for range 120 {
		s.blend(s.rng.IntN(int(w)), s.rng.IntN(int(h*0.45)), rgb(230, 230, 255), 0.4+0.6*s.rng.Float64())
	}
	for y := int(h * 0.55); y < int(h); y++ {
		for x := 0; x < int(w); x++ {
			wave := 0.5 + 0.5*math.Sin(float64(x)/37+float64(y)/9)
			s.blend(x, y, rgb(18, 58, 110), 0.55+0.2*wave)
		}
	}
	for range 4 {
		x := s.rng.Float64() * w
		s.rect(image.Rect(int(x), int(h*0.5), int(x+w/40), int(h*0.56)), rgb(60, 36, 30))
		s.disc(x+w/80, h*0.48, w/90, rgb(255, 200, 120), w/30)
	}
	lx, ly := w*(0.25+0.5*s.rng.Float64()), h*(0.68+0.12*s.rng.Float64())
	s.disc(lx, ly, h/18, rgb(255, 170, 60), h/5)
	s.disc(lx, ly, h/30, rgb(255, 236, 180), 0)
}

// orbits: moons on ellipses around a small planet.
func (s scene) orbits() {
	w, h := s.size()
	s.gradient(rgb(6, 4, 18), rgb(30, 12, 48))
	for range 200 {
		s.blend(s.rng.IntN(int(w)), s.rng.IntN(int(h)), rgb(255, 255, 255), 0.2+0.7*s.rng.Float64())
	}
	cx, cy := w*(0.4+0.2*s.rng.Float64()), h*(0.45+0.1*s.rng.Float64())
	for i := range 4 {
		rx, ry := h*(0.18+0.09*float64(i)), h*(0.09+0.05*float64(i))
		s.ring(cx, cy, rx, ry, rgb(140, 160, 255), 0.5)
		t := s.rng.Float64() * 2 * math.Pi
		s.disc(cx+rx*math.Cos(t), cy+ry*math.Sin(t), h/60+float64(i), rgb(220, 220, 235), h/50)
	}
	s.disc(cx, cy, h/9, rgb(70, 170, 140), h/8)
	s.disc(cx-h/40, cy-h/40, h/20, rgb(120, 210, 170), 0)
}

// wall: a garden wall of stones, moss creeping over it.
func (s scene) wall() {
	w, h := s.size()
	s.gradient(rgb(170, 205, 230), rgb(225, 235, 215))
	stone := int(h / 9)
	for row, y := 0, int(h*0.3); y < int(h); row, y = row+1, y+stone {
		for x := -(row % 2) * stone; x < int(w); x += 2 * stone {
			g := uint8(120 + s.rng.IntN(50))
			if s.rng.Float64() < 0.08 {
				continue // a missing stone, to be fitted
			}
			s.rect(image.Rect(x+3, y+3, x+2*stone-3, y+stone-3), rgb(g, g-8, g-20))
			for range 3 {
				if s.rng.Float64() < 0.5 {
					s.disc(float64(x+s.rng.IntN(2*stone)), float64(y), float64(stone)/5, rgb(70, 140, 60), float64(stone)/4)
				}
			}
		}
	}
}

// valley: hills and radio towers humming in rings.
func (s scene) valley() {
	w, h := s.size()
	s.gradient(rgb(250, 190, 120), rgb(190, 120, 160))
	for layer := range 3 {
		base := h * (0.55 + 0.12*float64(layer))
		c := mix(rgb(90, 140, 90), rgb(30, 70, 50), float64(layer)/2)
		phase := s.rng.Float64() * 6
		for x := 0; x < int(w); x++ {
			top := base - h*0.06*math.Sin(float64(x)/w*5+phase)
			s.rect(image.Rect(x, int(top), x+1, int(h)), c)
		}
	}
	for range 3 {
		x, y := w*(0.15+0.7*s.rng.Float64()), h*(0.45+0.1*s.rng.Float64())
		s.rect(image.Rect(int(x)-2, int(y), int(x)+2, int(y+h*0.2)), rgb(40, 40, 60))
		for r := 1; r <= 3; r++ {
			s.ring(x, y, h*0.04*float64(r), h*0.04*float64(r), rgb(255, 255, 255), 0.6)
		}
		s.disc(x, y, h/90, rgb(255, 90, 90), h/60)
	}
}

// title writes the game's title across the bottom of the picture on a dark band, in
// basicfont's 7 by 13 pixel letters scaled up.
func (s scene) title(text string) {
	w, h := s.size()
	const scale = 4
	small := image.NewRGBA(image.Rect(0, 0, 7*len(text)+2, 16))
	d := font.Drawer{Dst: small, Src: image.NewUniform(rgb(255, 244, 220)), Face: basicfont.Face7x13, Dot: fixed.P(1, 12)}
	d.DrawString(text)
	tw, th := small.Bounds().Dx()*scale, small.Bounds().Dy()*scale
	band := int(h) - th - 40
	for y := band; y < int(h); y++ {
		for x := 0; x < int(w); x++ {
			s.blend(x, y, rgb(0, 0, 0), 0.55)
		}
	}
	x0, y0 := (int(w)-tw)/2, band+20
	for y := range th {
		for x := range tw {
			if c := small.RGBAAt(x/scale, y/scale); c.A > 0 {
				s.blend(x0+x, y0+y, rgb(255, 244, 220), float64(c.A)/255)
			}
		}
	}
}
