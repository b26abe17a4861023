//! The fonts resvg draws text with (system fonts, loaded once) and text widths measured with
//! the face it will pick, so that text is wrapped where it is drawn.

use resvg::usvg::fontdb::{Database, Family, ID, Query};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The families every text of the renderer asks for after its own (Arial's metric twin
/// first, as BBB's player draws with Arial).
pub const FALLBACKS: &str = "Liberation Sans, DejaVu Sans, sans-serif";

/// Average advance (em) used when no font is installed.
const ESTIMATE_EM: f64 = 0.52;

/// The system fonts, loaded once per process.
pub fn database() -> Arc<Database> {
    static DB: OnceLock<Arc<Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = Database::new();
        db.load_system_fonts();
        db.set_sans_serif_family("Liberation Sans");
        Arc::new(db)
    })
    .clone()
}

/// The face resvg picks for a font-family list (then [`FALLBACKS`]), looked up once per list.
fn face_for(family: &str) -> Option<ID> {
    static FACES: OnceLock<Mutex<HashMap<String, Option<ID>>>> = OnceLock::new();
    let faces = FACES.get_or_init(Default::default);
    let mut faces = faces.lock().unwrap_or_else(|e| e.into_inner());
    *faces.entry(family.to_string()).or_insert_with(|| {
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
            ..Query::default()
        })
    })
}

/// Width of `text` at `size` px in the face resvg picks for `family`; estimated when no
/// font is installed. Characters missing from the face count as an average advance.
/// Advances are read from the font once per character.
pub fn width(text: &str, family: &str, size: f64) -> f64 {
    static ADVANCES: OnceLock<Mutex<HashMap<(ID, char), f64>>> = OnceLock::new();
    let Some(id) = face_for(family) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_letters_measure_narrower_than_wide_ones() {
        assert_eq!(width("", "Arial", 10.0), 0.0);
        if database().faces().next().is_none() {
            eprintln!("skipped: no font installed (scripts/setup installs fonts-liberation)");
            return;
        }
        let (i, m) = (width("iiii", "Arial", 10.0), width("MMMM", "Arial", 10.0));
        assert!(i > 0.0 && m > 2.5 * i, "M {m} vs i {i}");
    }
}
