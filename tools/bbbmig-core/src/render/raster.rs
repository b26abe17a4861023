//! Rasterises each distinct presentation-area state once (slide + view box + shapes, letterboxed)
//! into a PNG, in parallel.

use super::model::Published;
use super::options::{Cancel, Progress};
use super::svg::{BACKGROUND, background, svg_options, write_png};
use super::timeline::{Fit, State, ViewBox};
use anyhow::{Context, Result, anyhow, bail};
use resvg::tiny_skia::{FilterQuality, Paint, Pixmap, PixmapPaint, Rect, Transform};
use resvg::usvg;
use std::path::{Path, PathBuf};

enum SlideImage {
    Bitmap(Pixmap),
    Vector(Box<usvg::Tree>),
    Blank,
}

fn load_slide(p: &Published, idx: usize, opt: &usvg::Options) -> Result<SlideImage> {
    let s = &p.slides[idx];
    let Some(file) = &s.file else {
        return Ok(SlideImage::Blank);
    };
    let data = std::fs::read(file).with_context(|| format!("reading {}", s.href))?;
    if s.href.ends_with(".svg") {
        let tree = usvg::Tree::from_data(&data, opt)
            .map_err(|e| anyhow!("slide {}: not a valid SVG: {e}", s.href))?;
        let size = tree.size();
        super::dimensions::check(
            &format!("slide {}", s.href),
            size.width() as u32,
            size.height() as u32,
        )?;
        return Ok(SlideImage::Vector(Box::new(tree)));
    }
    super::dimensions::check_image(&format!("slide {}", s.href), &data)?;
    match Pixmap::decode_png(&data) {
        Ok(px) => Ok(SlideImage::Bitmap(px)),
        Err(_) if s.is_placeholder() => Ok(SlideImage::Blank),
        Err(e) => bail!("slide {}: not a valid PNG: {e}", s.href),
    }
}

fn fill(pm: &mut Pixmap, r: Option<Rect>, rgb: [u8; 3], t: Transform) {
    let mut paint = Paint::default();
    paint.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    if let Some(r) = r {
        pm.fill_rect(r, &paint, t, None);
    }
}

/// Where the view box `vb` of a slide lands in the `aw`x`ah` area: its fit and the
/// transform from slide pixels to area pixels.
fn placement(vb: &ViewBox, aw: u32, ah: u32) -> (Fit, Transform) {
    let fit = vb.fit(aw as f64, ah as f64);
    let k = fit.scale;
    let t = Transform::from_translate((fit.x - vb.x * k) as f32, (fit.y - vb.y * k) as f32)
        .pre_scale(k as f32, k as f32);
    (fit, t)
}

/// The `aw`x`ah` picture of a state without its drawings: the area's background, then the
/// slide's white page and its picture at the state's view box. States that share slide and
/// view box share it (`render_states` keeps the last one): scaling the slide's picture is
/// most of the work of a state.
fn slide_base(p: &Published, st: &State, img: &SlideImage, aw: u32, ah: u32) -> Result<Pixmap> {
    let mut pm = background(aw, ah).ok_or_else(|| anyhow!("bad area size {aw}x{ah}"))?;
    let Some(si) = st.slide else { return Ok(pm) };
    let s = &p.slides[si];
    let (_, t) = placement(&st.vb, aw, ah);
    fill(
        &mut pm,
        Rect::from_xywh(0.0, 0.0, s.width as f32, s.height as f32),
        [255, 255, 255],
        t,
    );
    match img {
        SlideImage::Bitmap(px) => {
            let ti = t.pre_scale(
                s.width as f32 / px.width() as f32,
                s.height as f32 / px.height() as f32,
            );
            let paint = PixmapPaint {
                quality: FilterQuality::Bilinear,
                ..Default::default()
            };
            pm.draw_pixmap(0, 0, px.as_ref(), &paint, ti, None);
        }
        SlideImage::Vector(tree) => {
            let sz = tree.size();
            let ti = t.pre_scale(s.width as f32 / sz.width(), s.height as f32 / sz.height());
            resvg::render(tree, ti, &mut pm.as_mut());
        }
        SlideImage::Blank => {}
    }
    Ok(pm)
}

/// Draws one state's drawings over `pm` (its [`slide_base`]), then letterboxes the view box.
fn draw(p: &Published, st: &State, mut pm: Pixmap, opt: &usvg::Options) -> Result<Pixmap> {
    let Some(si) = st.slide else { return Ok(pm) };
    let s = &p.slides[si];
    let vb = st.vb;
    let (aw, ah) = (pm.width(), pm.height());
    let (
        Fit {
            scale: k,
            x: ox,
            y: oy,
        },
        t,
    ) = placement(&vb, aw, ah);
    if !st.shapes.is_empty() {
        let list = &p.shapes[&s.id];
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">",
            w = s.width,
            h = s.height
        );
        for &i in &st.shapes {
            svg.push_str(&list[i].svg);
        }
        svg.push_str("</svg>");
        let tree =
            usvg::Tree::from_str(&svg, opt).map_err(|e| anyhow!("drawings of {}: {e}", s.id))?;
        resvg::render(&tree, t, &mut pm.as_mut());
    }
    // Letterbox: only the view box is visible.
    let (vw, vh) = ((vb.w * k) as f32, (vb.h * k) as f32);
    let (x0, y0) = (ox as f32, oy as f32);
    let (awf, ahf) = (aw as f32, ah as f32);
    for r in [
        Rect::from_xywh(0.0, 0.0, awf, y0),
        Rect::from_xywh(0.0, y0 + vh, awf, ahf - y0 - vh),
        Rect::from_xywh(0.0, 0.0, x0, ahf),
        Rect::from_xywh(x0 + vw, 0.0, awf - x0 - vw, ahf),
    ] {
        fill(&mut pm, r, BACKGROUND, Transform::identity());
    }
    Ok(pm)
}

/// Renders every state to `dir/sN.png`; returns the paths in state order. Stops with an
/// error once `cancel` is set; counts each picture done in `progress`.
pub fn render_states(
    p: &Published,
    states: &[State],
    aw: u32,
    ah: u32,
    dir: &Path,
    cancel: &Cancel,
    progress: &Progress,
) -> Result<Vec<PathBuf>> {
    let opt = svg_options();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let paths: Vec<PathBuf> = (0..states.len())
        .map(|i| dir.join(format!("s{i}.png")))
        .collect();
    let chunk = states.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for (ci, part) in states.chunks(chunk).enumerate() {
            let opt = &opt;
            let paths = &paths;
            handles.push(scope.spawn(move || -> Result<()> {
                let mut cache: Option<(usize, SlideImage)> = None;
                let mut bases: Option<((Option<usize>, ViewBox), Pixmap)> = None;
                for (j, st) in part.iter().enumerate() {
                    if cancel.is_set() {
                        bail!("rendering interrupted");
                    }
                    let key = (st.slide, st.vb);
                    let base = match &bases {
                        Some((k, pm)) if *k == key => pm.clone(),
                        _ => {
                            let img = match (st.slide, &cache) {
                                (None, _) => None,
                                (Some(si), Some((c, _))) if *c == si => {
                                    cache.as_ref().map(|c| &c.1)
                                }
                                (Some(si), _) => {
                                    cache = Some((si, load_slide(p, si, opt)?));
                                    cache.as_ref().map(|c| &c.1)
                                }
                            };
                            let img = img.unwrap_or(&SlideImage::Blank);
                            let pm = slide_base(p, st, img, aw, ah)?;
                            bases = Some((key, pm.clone()));
                            pm
                        }
                    };
                    let pm = draw(p, st, base, opt)?;
                    write_png(&pm, &paths[ci * chunk + j])?;
                    progress.state_done();
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow!("a rasteriser thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(paths)
}
