//! The fonts resvg draws text with (system fonts and the bundled ones, loaded once) and text widths measured with
//! the face it will pick, so that text is wrapped where it is drawn.

use resvg::usvg::fontdb::{Database, Family, ID, Query, Weight};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The families every text of the renderer asks for after its own (Arial's metric twin
/// first, as BBB's player draws with Arial).
pub const FALLBACKS: &str = "Liberation Sans, DejaVu Sans, sans-serif";

/// The faces bundled with the renderer (tools/bbbmig-core/fonts/README.md): tldraw v1's
/// script face, tldraw v2's draw, sans, serif and mono faces.
const BUNDLED: [&[u8]; 5] = [
    include_bytes!("../../fonts/CaveatBrush-Regular.ttf"),
    include_bytes!("../../fonts/ShantellSans-Normal-SemiBold.ttf"),
    include_bytes!("../../fonts/IBMPlexSans-Medium.ttf"),
    include_bytes!("../../fonts/IBMPlexSerif-Medium.ttf"),
    include_bytes!("../../fonts/IBMPlexMono-Medium.ttf"),
];

/// The family names of the bundled faces, as tldraw's tables name them here.
#[cfg(test)]
const BUNDLED_FAMILIES: [&str; 5] = [
    "Caveat Brush",
    "Shantell Sans Normal",
    "IBM Plex Sans",
    "IBM Plex Serif",
    "IBM Plex Mono",
];

/// Average advance (em) used when no font is installed.
const ESTIMATE_EM: f64 = 0.52;

/// The system fonts, loaded once per process.
pub fn database() -> Arc<Database> {
    static DB: OnceLock<Arc<Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = Database::new();
        db.load_system_fonts();
        // Each font file mapped once for the whole run. Left as files, fontdb opens and maps
        // one every time resvg reads a glyph of it: 95,000 open/mmap/munmap for the chat
        // panels of a 10-minute lecture (1.9 s), and a third of the rasterising of a real
        // recording with many text boxes.
        let ids: Vec<ID> = db.faces().map(|f| f.id).collect();
        for id in ids {
            // SAFETY: the mapping reads the font file as it is on disk, as fontdb's own
            // per-glyph mappings did (memmap-fonts); font packages replace files by renaming
            // new ones into place, which leaves a mapped old file intact.
            let _ = unsafe { db.make_shared_face_data(id) };
        }
        for face in BUNDLED {
            db.load_font_data(face.to_vec());
        }
        db.set_sans_serif_family("Liberation Sans");
        Arc::new(db)
    })
    .clone()
}

/// The face resvg picks for a font-family list (then [`FALLBACKS`]), regular or bold,
/// looked up once per list.
fn face_for(family: &str, bold: bool) -> Option<ID> {
    type Faces = HashMap<(String, bool), Option<ID>>;
    static FACES: OnceLock<Mutex<Faces>> = OnceLock::new();
    let faces = FACES.get_or_init(Default::default);
    let mut faces = faces.lock().unwrap_or_else(|e| e.into_inner());
    *faces.entry((family.to_string(), bold)).or_insert_with(|| {
        let names: Vec<&str> = family
            .split(',')
            .chain(FALLBACKS.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "sans-serif")
            .collect();
        let mut families: Vec<Family> = names.iter().map(|n| Family::Name(n)).collect();
        families.push(Family::SansSerif);
        database().query(&Query {
            families: &families,
            weight: if bold { Weight::BOLD } else { Weight::NORMAL },
            ..Query::default()
        })
    })
}

/// Width of `text` at `size` px in the face resvg picks for `family` (regular or bold);
/// estimated when no font is installed. Characters missing from the face count as an
/// average advance. Advances are read from the font once per character.
pub fn styled_width(text: &str, family: &str, size: f64, bold: bool) -> f64 {
    static ADVANCES: OnceLock<Mutex<HashMap<(ID, char), f64>>> = OnceLock::new();
    let Some(id) = face_for(family, bold) else {
        return text.chars().count() as f64 * ESTIMATE_EM * size;
    };
    let cache = ADVANCES.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if text.chars().any(|c| !cache.contains_key(&(id, c))) {
        database().with_face_data(id, |data, index| {
            let face = ttf_parser::Face::parse(data, index).ok();
            for c in text.chars() {
                let em = face.as_ref().and_then(|f| {
                    let a = f.glyph_hor_advance(f.glyph_index(c)?)?;
                    Some(a as f64 / f.units_per_em() as f64)
                });
                cache.insert((id, c), em.unwrap_or(ESTIMATE_EM));
            }
        });
    }
    text.chars()
        .map(|c| cache.get(&(id, c)).copied().unwrap_or(ESTIMATE_EM))
        .sum::<f64>()
        * size
}

/// Width of `text` at `size` px as a browser sets it in the face resvg picks for `family`
/// (regular or bold): shaped with the face's default features (kerning, ligatures), so
/// narrower than [`styled_width`]'s sum of plain advances where pairs are kerned; falls
/// back to that sum when the face cannot be shaped or no font is installed.
pub fn shaped_width(text: &str, family: &str, size: f64, bold: bool) -> f64 {
    let shaped = face_for(family, bold).and_then(|id| {
        database().with_face_data(id, |data, index| {
            let face = rustybuzz::Face::from_slice(data, index)?;
            let mut buf = rustybuzz::UnicodeBuffer::new();
            buf.push_str(text);
            let glyphs = rustybuzz::shape(&face, &[], buf);
            let units: i64 = glyphs
                .glyph_positions()
                .iter()
                .map(|p| i64::from(p.x_advance))
                .sum();
            Some(units as f64 / f64::from(face.units_per_em()) * size)
        })?
    });
    shaped.unwrap_or_else(|| styled_width(text, family, size, bold))
}

/// Where the first baseline sits below a line's top, and the distance between lines, for
/// `family` at `size` px as a browser lays out `line-height: normal` (None) or a line
/// height of `lh` em: the face's ascent, descent and line gap each rounded to whole pixels,
/// the leading split above and below. Estimated (Arial's proportions) when no font is
/// installed.
pub fn line_metrics(family: &str, size: f64, lh: Option<f64>) -> (f64, f64) {
    type Metrics = HashMap<ID, (f64, f64, f64)>;
    static METRICS: OnceLock<Mutex<Metrics>> = OnceLock::new();
    let em = face_for(family, false).and_then(|id| {
        let cache = METRICS.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = cache.get(&id) {
            return Some(*m);
        }
        let m = database().with_face_data(id, |data, index| {
            let f = ttf_parser::Face::parse(data, index).ok()?;
            let u = f.units_per_em() as f64;
            Some((
                f.ascender() as f64 / u,
                -(f.descender() as f64) / u,
                f.line_gap() as f64 / u,
            ))
        })??;
        cache.insert(id, m);
        Some(m)
    });
    let (a, d, g) = em.unwrap_or((0.905, 0.212, 0.033));
    let (a, d, g) = ((a * size).round(), (d * size).round(), (g * size).round());
    match lh {
        Some(lh) => {
            let pitch = lh * size;
            (((pitch - a - d) / 2.0).floor() + a, pitch)
        }
        None => ((g / 2.0).floor() + a, a + d + g),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_font_file_is_mapped_once_not_at_each_glyph() {
        use resvg::usvg::fontdb::Source;
        let db = database();
        let files = db
            .faces()
            .filter(|f| matches!(f.source, Source::File(_)))
            .count();
        assert_eq!(files, 0, "faces read from their file at each use");
        // Installed fonts (scripts/setup installs fonts-liberation) are shared mappings.
        let shared = db
            .faces()
            .filter(|f| matches!(f.source, Source::SharedFile(..)))
            .count();
        assert!(shared > 0 || db.faces().count() == BUNDLED.len());
    }

    #[test]
    fn narrow_letters_measure_narrower_than_wide_ones() {
        assert_eq!(styled_width("", "Arial", 10.0, false), 0.0);
        if database().faces().next().is_none() {
            eprintln!("skipped: no font installed (scripts/setup installs fonts-liberation)");
            return;
        }
        let (i, m) = (
            styled_width("iiii", "Arial", 10.0, false),
            styled_width("MMMM", "Arial", 10.0, false),
        );
        assert!(i > 0.0 && m > 2.5 * i, "M {m} vs i {i}");
    }

    #[test]
    fn shaped_widths_are_kerned() {
        // "AV" is kerned tighter in IBM Plex Sans than its two advances; a lone letter is
        // its advance.
        let (shaped, plain) = (
            shaped_width("AV", "IBM Plex Sans", 100.0, false),
            styled_width("AV", "IBM Plex Sans", 100.0, false),
        );
        assert!(shaped < plain - 1.0, "AV {shaped} vs {plain}");
        let (a, b) = (
            shaped_width("A", "IBM Plex Sans", 100.0, false),
            styled_width("A", "IBM Plex Sans", 100.0, false),
        );
        assert!((a - b).abs() < 1e-9, "A {a} vs {b}");
    }

    #[test]
    fn bundled_faces_are_found_by_their_family_names() {
        let db = database();
        for name in BUNDLED_FAMILIES {
            let id = face_for(name, false).expect(name);
            let face = db.face(id).expect(name);
            assert!(
                face.families.iter().any(|(f, _)| f == name),
                "{name}: got {:?}",
                face.families
            );
        }
        // Each face has its own advances: the same text measures differently in each.
        let widths: Vec<f64> = BUNDLED_FAMILIES
            .iter()
            .map(|f| (styled_width("Hello tldraw", f, 24.0, false) * 100.0).round())
            .collect();
        let mut distinct = widths.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert_eq!(distinct.len(), widths.len(), "{widths:?}");
    }
}
