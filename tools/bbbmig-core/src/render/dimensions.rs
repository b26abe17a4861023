//! Slide images are checked for their size before they are decoded: a small compressed
//! file may claim a huge picture (a decompression bomb) that would exhaust memory.

use anyhow::{Result, bail};

/// Widest or tallest slide image accepted, in pixels (BBB converts slides to about
/// 1600 px; 16384 is also the largest picture many encoders accept).
pub const MAX_SIDE: u32 = 16384;
/// Most pixels a slide image may have (50 megapixels: 200 MB once decoded).
pub const MAX_PIXELS: u64 = 50_000_000;

/// The width and height a PNG or JPEG file declares in its header, if it is one.
pub fn declared(data: &[u8]) -> Option<(u32, u32)> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") && data.get(12..16) == Some(b"IHDR") {
        let be = |r: std::ops::Range<usize>| {
            data.get(r)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        return Some((be(16..20)?, be(20..24)?));
    }
    if data.starts_with(&[0xFF, 0xD8]) {
        return jpeg(data);
    }
    None
}

/// Walks the JPEG markers to the first frame header (SOF0…SOF15 but DHT, JPG, DAC).
fn jpeg(data: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let m = data[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if (0xC0..=0xCF).contains(&m) && !matches!(m, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*data.get(i + 5)?, *data.get(i + 6)?]);
            let w = u16::from_be_bytes([*data.get(i + 7)?, *data.get(i + 8)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += 2 + len;
    }
    None
}

/// Fails when an image of `w`×`h` is over the caps.
pub fn check(what: &str, w: u32, h: u32) -> Result<()> {
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        bail!(
            "{what} is {w}×{h} pixels, over the limit of {MAX_SIDE} px a side and {} megapixels: not decoded",
            MAX_PIXELS / 1_000_000
        );
    }
    Ok(())
}

/// Checks the declared size of an image file before it is decoded.
pub fn check_image(what: &str, data: &[u8]) -> Result<()> {
    match declared(data) {
        Some((w, h)) => check(what, w, h),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_jpeg_headers_are_read_and_bombs_refused() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&30000u32.to_be_bytes());
        png.extend_from_slice(&30000u32.to_be_bytes());
        assert_eq!(declared(&png), Some((30000, 30000)));
        assert!(check_image("slide", &png).is_err());
        let jpg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0x03, 0x20, 0x06, 0x40,
        ];
        assert_eq!(declared(&jpg), Some((1600, 800)));
        assert!(check_image("slide", &jpg).is_ok());
        assert!(check("svg", 1600, 1200).is_ok());
        assert!(check("svg", 10000, 10000).is_err());
        assert_eq!(declared(b"<svg/>"), None);
    }
}
