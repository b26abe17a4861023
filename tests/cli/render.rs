//! Tests of the native renderer, run through `bbb-synth --render`: frames extracted with
//! ffmpeg are checked pixel by pixel against what the synthetic recording's manifest (or the
//! published files) say should be on screen; durations, A/V sync, tracks and chapters by ffprobe.

use crate::support;
use bbbmig_testkit::synth;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const W: usize = 1280;
const H: usize = 720;

fn render(dir: &Path, out: &Path, args: &[&str]) -> support::Run {
    render_spans(dir, out, args, None)
}

/// Renders with stretches of `span` seconds (`--render-span`) when given.
fn render_spans(dir: &Path, out: &Path, args: &[&str], span: Option<&str>) -> support::Run {
    let mut c = support::cmd("bbb-synth");
    if let Some(s) = span {
        c.args(["--render-span", s]);
    }
    c.arg("--render")
        .arg(dir)
        .arg(out)
        .args(["--preset", "ultrafast"])
        .args(args);
    support::run(c, "")
}

fn render_ok(dir: &Path, out: &Path, args: &[&str]) {
    let r = render(dir, out, args);
    r.ok();
}

/// Renders the fixture `name` at 5 fps in the presentation layout; returns the temporary
/// folder (removed when dropped) and the MP4 in it.
/// Page → screen scale of the tldraw fixtures: a 1600x900 slide, page space 1440x1080,
/// shown at full view in 1280x720.
const PAGE_TO_SCREEN: f64 = 0.8 / 0.9;

/// The tldraw v2 fixture (tests/fixtures/render/tldraw-3.0-v2-synthetic), rendered once
/// for every test that reads it.
fn tldraw_v2_render() -> &'static Path {
    static R: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &R.get_or_init(|| render_fixture("render/tldraw-3.0-v2-synthetic"))
        .1
}

fn render_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.mp4");
    render_ok(
        &support::fixture(name),
        &out,
        &["--fps", "5", "--layout", "presentation"],
    );
    (dir, out)
}

/// What ffmpeg writes to stdout with `pre -i input post` (it must succeed).
fn ffmpeg_out(pre: &[&str], input: &Path, post: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error"])
        .args(pre)
        .arg("-i")
        .arg(input)
        .args(post)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The full RGB frame shown at `t` seconds.
fn frame(mp4: &Path, t: f64) -> Vec<u8> {
    let rgb = ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"];
    ffmpeg_out(&["-ss", &format!("{t:.3}")], mp4, &rgb)
}

fn px(f: &[u8], w: usize, x: f64, y: f64) -> [u8; 3] {
    let i = ((y as usize) * w + x as usize) * 3;
    [f[i], f[i + 1], f[i + 2]]
}

fn hex(s: &str) -> [u8; 3] {
    let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (*x as i32 - y as i32).abs() <= tol)
}

/// Some pixel within `r` of (x, y) has colour `c`.
fn near(f: &[u8], w: usize, h: usize, x: f64, y: f64, r: i32, c: [u8; 3]) -> bool {
    (-r..=r).any(|dy| {
        (-r..=r).any(|dx| {
            let (xx, yy) = (x as i32 + dx, y as i32 + dy);
            xx >= 0
                && yy >= 0
                && (xx as usize) < w
                && (yy as usize) < h
                && close(px(f, w, xx as f64, yy as f64), c, 40)
        })
    })
}

fn probe(mp4: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "compact=p=0:nk=1"])
        .args(entries.split(' '))
        .arg(mp4)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn duration(mp4: &Path) -> f64 {
    probe(mp4, "-show_entries format=duration")
        .trim()
        .parse()
        .unwrap()
}

/// A synthetic lecture rendered once in the default layout, shared by several tests; in
/// stretches of 7 s, so that the joins fall inside the screen share and near flashes.
struct Lecture {
    _dir: tempfile::TempDir,
    src: PathBuf,
    mp4: PathBuf,
    m: Value,
}

fn lecture() -> &'static Lecture {
    static L: OnceLock<Lecture> = OnceLock::new();
    L.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("rec");
        let m = synth(
            &src,
            &[
                "--duration",
                "50",
                "--slides",
                "3",
                "--strokes",
                "3",
                "--deskshare",
                "40-46",
                "--flash-every",
                "15",
            ],
        );
        let mp4 = dir.path().join("out.mp4");
        let r = render_spans(&src, &mp4, &[], Some("7"));
        r.ok();
        Lecture {
            _dir: dir,
            src,
            mp4,
            m,
        }
    })
}

/// Bbb layout with webcams: area 960x720 at (0,0); slides 1600x900 → scale 0.6, 90 px bars.
fn to_screen(x: f64, y: f64) -> (f64, f64) {
    (x * 0.6, 90.0 + y * 0.6)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// Cursor position (fractions of the view box) at t, from the published cursor.xml.
fn cursor_at(src: &Path, t: f64) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(src.join("cursor.xml")).unwrap();
    let mut cur = None;
    for ev in text.split("<event ").skip(1) {
        let ts: f64 = ev.split('"').nth(1).unwrap().parse().unwrap();
        if ts > t {
            break;
        }
        let c = ev
            .split("<cursor>")
            .nth(1)
            .unwrap()
            .split("</cursor>")
            .next()
            .unwrap();
        let v: Vec<f64> = c.split_whitespace().map(|s| s.parse().unwrap()).collect();
        cur = (v[0] >= 0.0).then_some((v[0], v[1]));
    }
    cur
}

/// Where the lecture's cursor is on the screen at t, and whether the slide is zoomed 2x then
/// (view box 800,450 800x450: scale 1.2).
fn cursor_on_screen(l: &Lecture, t: f64) -> Option<((f64, f64), bool)> {
    let (cx, cy) = cursor_at(&l.src, t)?;
    let s = l.m["slides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| f(&s["start"]) <= t && t < f(&s["end"]))
        .unwrap();
    let zoomed = t >= f(&s["zoom"]["start"]) && t < f(&s["zoom"]["end"]);
    Some(if zoomed {
        ((cx * 800.0 * 1.2, 90.0 + cy * 450.0 * 1.2), true)
    } else {
        (to_screen(cx * 1600.0, cy * 900.0), false)
    })
}

fn overlaps_share(l: &Lecture, a: f64, b: f64) -> bool {
    l.m["deskshare"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| f(&d[0]) < b && f(&d[1]) > a)
}

#[test]
fn render_lasts_as_long_as_the_playback_duration() {
    let l = lecture();
    let d = duration(&l.mp4);
    assert!((d - f(&l.m["duration"])).abs() <= 0.2, "duration {d}");
    let v = probe(
        &l.mp4,
        "-show_entries stream=codec_name,width,height,r_frame_rate",
    );
    assert!(v.contains("h264|1280|720|15/1"), "{v}");
    assert!(v.lines().any(|s| s.starts_with("aac")), "{v}");
}

#[test]
fn render_joins_its_stretches_without_a_missing_or_repeated_frame() {
    let l = lecture();
    let pts: Vec<f64> = probe(&l.mp4, "-select_streams v:0 -show_entries packet=pts_time")
        .lines()
        .map(|s| s.trim().parse().unwrap())
        .collect();
    assert_eq!(pts.len(), 50 * 15, "frames");
    let mut sorted = pts.clone();
    sorted.sort_by(f64::total_cmp);
    for (i, t) in sorted.iter().enumerate() {
        assert!(
            (t - i as f64 / 15.0).abs() < 0.002,
            "frame {i} at {t} s: {:?}",
            &sorted[i.saturating_sub(2)..(i + 3).min(sorted.len())]
        );
    }
    // The same recording in one run gives the same pictures at the joins.
    let one = l.mp4.with_file_name("one-run.mp4");
    let r = render_spans(&l.src, &one, &[], Some("1000"));
    r.ok();
    for t in [6.9, 7.0, 7.1, 41.9, 42.0, 42.1, 44.9] {
        let (a, b) = (frame(&l.mp4, t), frame(&one, t));
        let diff = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x.abs_diff(**y) > 24)
            .count();
        assert!(diff < a.len() / 500, "{diff} bytes differ at {t} s");
    }
}

#[test]
fn render_shows_each_slide_with_its_strokes_until_undone() {
    let l = lecture();
    for s in l.m["slides"].as_array().unwrap() {
        if overlaps_share(l, f(&s["start"]), f(&s["zoom"]["end"])) {
            continue;
        }
        let strokes = s["strokes"].as_array().unwrap();
        let last = strokes.last().unwrap();
        let (drawn, undo) = (f(&last["drawn"]) + 0.3, f(&last["undo"]));
        let t_all = (drawn + undo) / 2.0;
        let t_undone = (undo + f(&s["zoom"]["start"])) / 2.0;
        let fr = frame(&l.mp4, t_all);
        let q = s["quadrants"].as_array().unwrap();
        // Quadrant colours, probed right of the strokes (which stay left of x = 0.42 W).
        for (i, (x, y)) in [
            (736.0, 225.0),
            (1200.0, 225.0),
            (736.0, 675.0),
            (1200.0, 675.0),
        ]
        .iter()
        .enumerate()
        {
            let (sx, sy) = to_screen(*x, *y);
            let c = px(&fr, W, sx, sy);
            let cur = cursor_at(&l.src, t_all).map(|(cx, cy)| to_screen(cx * 1600.0, cy * 900.0));
            if cur.is_some_and(|(cx, cy)| (cx - sx).abs() < 20.0 && (cy - sy).abs() < 20.0) {
                continue;
            }
            assert!(
                close(c, hex(q[i].as_str().unwrap()), 24),
                "slide {} quadrant {i} at {t_all}: {c:?} vs {}",
                s["number"],
                q[i]
            );
        }
        for st in strokes {
            let Some(p) = st["probe"].as_array() else {
                continue;
            };
            let (sx, sy) = to_screen(f(&p[0]), f(&p[1]));
            let c = hex(st["colour"].as_str().unwrap());
            assert!(
                near(&fr, W, H, sx, sy, 3, c),
                "stroke {} of slide {} missing at {t_all}",
                st["kind"],
                s["number"]
            );
        }
        let fr2 = frame(&l.mp4, t_undone);
        let p = last["probe"].as_array().unwrap();
        let (sx, sy) = to_screen(f(&p[0]), f(&p[1]));
        assert!(
            !near(&fr2, W, H, sx, sy, 3, hex(last["colour"].as_str().unwrap())),
            "undone stroke still shown at {t_undone}"
        );
        let first = &strokes[0];
        let p = first["probe"].as_array().unwrap();
        let (sx, sy) = to_screen(f(&p[0]), f(&p[1]));
        assert!(
            near(
                &fr2,
                W,
                H,
                sx,
                sy,
                3,
                hex(first["colour"].as_str().unwrap())
            ),
            "kept stroke gone at {t_undone}"
        );
    }
}

#[test]
fn render_zooms_into_the_published_view_box() {
    let l = lecture();
    for s in l.m["slides"].as_array().unwrap() {
        let (a, b) = (f(&s["zoom"]["start"]), f(&s["zoom"]["end"]));
        if overlaps_share(l, a, b) {
            continue;
        }
        let fr = frame(&l.mp4, (a + b) / 2.0);
        let br = hex(s["quadrants"][3].as_str().unwrap());
        // The bottom-right quadrant fills the whole letterboxed area (960x540 at y 90).
        let mut hits = 0;
        for (x, y) in [
            (100.0, 150.0),
            (860.0, 150.0),
            (100.0, 580.0),
            (860.0, 580.0),
            (480.0, 360.0),
            (300.0, 300.0),
        ] {
            if close(px(&fr, W, x, y), br, 24) {
                hits += 1;
            }
        }
        assert!(
            hits >= 5,
            "zoomed area not filled by the bottom-right quadrant ({hits}/6)"
        );
        assert!(
            close(px(&fr, W, 480.0, 45.0), [0x26, 0x26, 0x26], 12),
            "letterbox bar missing"
        );
    }
}

#[test]
fn render_draws_the_cursor_where_the_presenter_pointed() {
    let l = lecture();
    let mut checked = 0;
    for t in [6.25, 11.25, 17.75, 26.25] {
        let Some(((sx, sy), _)) = cursor_on_screen(l, t) else {
            continue;
        };
        let fr = frame(&l.mp4, t);
        assert!(
            near(&fr, W, H, sx, sy, 2, [255, 0, 0]),
            "no cursor at ({sx},{sy}) at {t}"
        );
        checked += 1;
    }
    assert!(checked >= 3);
}

/// The pixels `d` px left, right, above and below (x, y) in a full frame.
fn ring(f: &[u8], x: f64, y: f64, d: f64) -> [[u8; 3]; 4] {
    [(-d, 0.0), (d, 0.0), (0.0, -d), (0.0, d)].map(|(dx, dy)| px(f, W, x + dx, y + dy))
}

#[test]
fn render_draws_the_cursor_as_the_player_does_growing_with_the_zoom() {
    let l = lecture();
    // The player's dot: 8 view-box units, rgb(223,39,33); 1600x900 slides at 0.6 px per unit
    // (radius 4.8 px), zoomed 2x at 1.2 (9.6 px); placed on even pixels (within 1.5 px of the
    // rounded point here), its rim tinted by 4:2:0 chroma.
    let red = [223, 39, 33];
    let (mut full, mut zoomed) = (0, 0);
    // Cursor events every 0.5 s: a quarter past, the dot has been still for a while.
    for k in 10..78 {
        let t = k as f64 * 0.5 + 0.25;
        let Some(((x, y), z)) = cursor_on_screen(l, t) else {
            continue;
        };
        if overlaps_share(l, t - 1.0, t + 1.0) {
            continue;
        }
        let (sx, sy) = (x.round(), y.round());
        if !(12.0..948.0).contains(&sx) || !(102.0..618.0).contains(&sy) {
            continue;
        }
        let fr = frame(&l.mp4, t);
        assert!(
            close(px(&fr, W, sx, sy), red, 24),
            "the dot at ({sx},{sy}) at {t} is {:?}, not the player's red",
            px(&fr, W, sx, sy)
        );
        let inside = ring(&fr, sx, sy, 1.0);
        let edge = ring(&fr, sx, sy, 7.0);
        assert!(
            inside.iter().all(|c| close(*c, red, 30)),
            "dot smaller than 1 px at {t}"
        );
        if z {
            assert!(
                edge.iter().all(|c| close(*c, red, 30)),
                "zoomed 2x at {t}, the dot does not reach 7 px: {edge:?}"
            );
            zoomed += 1;
        } else {
            assert!(
                edge.iter().all(|c| !close(*c, red, 20)),
                "at full view at {t}, the dot reaches 7 px: {edge:?}"
            );
            full += 1;
        }
    }
    assert!(
        full >= 2 && zoomed >= 2,
        "checked {full} full, {zoomed} zoomed"
    );
}

#[test]
fn render_shows_the_screen_share_from_its_first_frame_to_its_last_and_no_other() {
    let l = lecture();
    let green = hex(l.m["deskshare_colour"].as_str().unwrap());
    let d = &l.m["deskshare"][0];
    let (a, b) = (f(&d[0]), f(&d[1]));
    // 15 fps: the frames just before and at each edge. The share video is black outside the
    // share; before the fix the frame before the start showed that black and the frame before
    // the end the slide.
    let at = |t: f64| px(&frame(&l.mp4, t), W, 480.0, 360.0);
    let before = at(a - 1.0 / 15.0);
    assert!(
        !close(before, green, 30) && !close(before, [0, 0, 0], 30),
        "frame before the share: {before:?}"
    );
    assert!(close(at(a), green, 30), "first frame of the share");
    assert!(
        close(at(b - 1.0 / 15.0), green, 30),
        "last frame of the share"
    );
    let after = at(b);
    assert!(
        !close(after, green, 30) && !close(after, [0, 0, 0], 30),
        "frame after the share: {after:?}"
    );
}

#[test]
fn render_shows_the_screen_share_only_during_its_interval() {
    let l = lecture();
    let green = hex(l.m["deskshare_colour"].as_str().unwrap());
    let d = &l.m["deskshare"][0];
    let (a, b) = (f(&d[0]), f(&d[1]));
    assert!(
        close(
            px(&frame(&l.mp4, (a + b) / 2.0), W, 480.0, 360.0),
            green,
            30
        ),
        "no screen share inside its interval"
    );
    assert!(
        !close(px(&frame(&l.mp4, a - 1.5), W, 480.0, 360.0), green, 30),
        "screen share before its interval"
    );
    assert!(
        !close(px(&frame(&l.mp4, b + 1.5), W, 480.0, 360.0), green, 30),
        "screen share after its interval"
    );
}

/// Mean brightness of the webcam box per frame, and the mono audio at 8 kHz.
fn flash_and_beep(mp4: &Path, crop: &str) -> (Vec<u8>, Vec<i16>) {
    let vf = format!("crop={crop},scale=1:1:flags=area");
    let v = ffmpeg_out(
        &[],
        mp4,
        &["-vf", &vf, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
    );
    let pcm = ["-map", "0:a", "-ac", "1", "-ar", "8000", "-f", "s16le", "-"];
    let samples = ffmpeg_out(&[], mp4, &pcm)
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    (v, samples)
}

#[test]
fn render_keeps_audio_and_video_in_sync() {
    let l = lecture();
    let (v, a) = flash_and_beep(&l.mp4, "320:240:960:0");
    let flashes: Vec<f64> = l.m["flashes"].as_array().unwrap().iter().map(f).collect();
    assert!(flashes.len() >= 2);
    for fl in flashes {
        let from = ((fl - 1.0) * 15.0) as usize;
        let vi = (from..v.len())
            .find(|&i| v[i] > 200)
            .expect("flash not found");
        let tv = vi as f64 / 15.0;
        let from = ((fl - 1.0) * 8000.0) as usize;
        let ai = (from..a.len())
            .find(|&i| a[i].unsigned_abs() > 12000)
            .expect("beep not found");
        let ta = ai as f64 / 8000.0;
        assert!(
            (tv - ta).abs() <= 1.0 / 15.0 + 0.005,
            "flash at {tv} s, beep at {ta} s"
        );
        assert!(
            (tv - fl).abs() <= 1.0 / 15.0 + 0.005,
            "flash at {tv} s, published at {fl} s"
        );
    }
}

#[test]
fn render_adds_caption_tracks_and_one_chapter_per_slide() {
    let l = lecture();
    let s = probe(
        &l.mp4,
        "-show_entries stream=codec_name:stream_tags=language",
    );
    assert!(s.lines().any(|l| l == "mov_text|eng"), "{s}");
    let c = probe(&l.mp4, "-show_chapters");
    let titles: Vec<&str> = c.lines().filter_map(|l| l.rsplit('|').next()).collect();
    // Slide 3 is interrupted by the screen share: two display periods, two chapters.
    assert_eq!(
        titles,
        vec!["Slide 1", "Slide 2", "Slide 3", "Slide 3"],
        "{c}"
    );
}

#[test]
fn render_layouts_sizes_and_chat_column() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rec");
    let m = synth(
        &src,
        &[
            "--duration",
            "12",
            "--slides",
            "1",
            "--strokes",
            "0",
            "--chat-messages",
            "3",
            "--flash-every",
            "0",
        ],
    );
    let q = m["slides"][0]["quadrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| hex(c.as_str().unwrap()))
        .collect::<Vec<_>>();
    let cam = hex(m["webcam_colour"].as_str().unwrap());

    let p = dir.path().join("p.mp4");
    render_ok(
        &src,
        &p,
        &[
            "--layout",
            "presentation",
            "--size",
            "640x360",
            "--fps",
            "10",
        ],
    );
    let v = probe(
        &p,
        "-show_entries stream=codec_name,width,height,r_frame_rate",
    );
    assert!(v.contains("h264|640|360|10/1"), "{v}");
    let fr = frame(&p, 6.0);
    // 16:9 slide fills the 16:9 frame: quadrants at the four corners, no webcams.
    assert!(
        close(px(&fr, 640, 20.0, 20.0), q[0], 24) && close(px(&fr, 640, 620.0, 340.0), q[3], 24)
    );

    let o = dir.path().join("o.mp4");
    render_ok(&src, &o, &["--layout", "overlay"]);
    let fr = frame(&o, 6.0);
    assert!(
        close(px(&fr, W, 1100.0, 620.0), cam, 30),
        "no webcam in the corner"
    );
    assert!(
        close(px(&fr, W, 20.0, 20.0), q[0], 24),
        "presentation not full frame"
    );

    let c = dir.path().join("c.mp4");
    render_ok(&src, &c, &["--chat"]);
    let fr = frame(&c, 11.0);
    assert!(
        close(px(&fr, W, 1100.0, 100.0), cam, 30),
        "no webcam above the chat"
    );
    let text = (250..720)
        .flat_map(|y| (960..1280).map(move |x| (x, y)))
        .filter(|&(x, y)| px(&fr, W, x as f64, y as f64)[0] > 180)
        .count();
    assert!(text > 200, "no chat text drawn ({text} bright pixels)");
}

/// Rows (in y0..y1) of the screen column x0..x1 holding chat text (bright pixels).
fn text_rows(f: &[u8], x0: usize, x1: usize, y0: usize, y1: usize) -> Vec<usize> {
    (y0..y1)
        .filter(|&y| (x0..x1).any(|x| px(f, W, x as f64, y as f64)[0] > 180))
        .collect()
}

/// Runs of consecutive rows: the lines of text.
fn bands(rows: &[usize]) -> usize {
    rows.windows(2).filter(|w| w[1] > w[0] + 1).count() + usize::from(!rows.is_empty())
}

#[test]
fn render_chat_column_readable_with_webcams_and_messages_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rec");
    one_slide(&src, &["--chat-messages", "0", "--flash-every", "0"]);
    // One message of three lines (sent with line breaks), then a one-line one.
    std::fs::write(
        src.join("slides_new.xml"),
        "<?xml version=\"1.0\"?>\n<popcorn>\n\
         <chattimeline in=\"1.0\" direction=\"down\" name=\"Ann\" message=\"one&#10;two&#10;three\" target=\"chat\"/>\n\
         <chattimeline in=\"4.0\" direction=\"down\" name=\"Bob\" message=\"&lt;b&gt;hi&lt;/b&gt; there\" target=\"chat\"/>\n\
         </popcorn>\n",
    )
    .unwrap();
    let cams = dir.path().join("c.mp4");
    render_ok(&src, &cams, &["--chat", "--fps", "5"]);
    let plain = dir.path().join("p.mp4");
    render_ok(
        &src,
        &plain,
        &["--chat", "--fps", "5", "--layout", "presentation"],
    );
    // The column is the right quarter (x 960-1280); with webcams it starts below them
    // (y 240). Newest at the bottom: the name line, then "one", "two", "three".
    let (c, p) = (frame(&cams, 2.0), frame(&plain, 2.0));
    let (rc, rp) = (
        text_rows(&c, 960, 1280, 240, 720),
        text_rows(&p, 960, 1280, 240, 720),
    );
    assert_eq!(bands(&rc), 4, "line breaks of the message not kept: {rc:?}");
    // As large with webcams as without: the same rows hold text, and letters are at
    // least 10 px tall at 720p.
    assert_eq!(rc, rp, "chat text size depends on the webcams");
    let first_band = rc.iter().take_while(|&&y| y <= rc[0] + 20).count();
    assert!(first_band >= 10, "chat letters {first_band} px tall");
    // Later, both messages: 4 + 2 lines.
    let rc = text_rows(&frame(&cams, 6.0), 960, 1280, 240, 720);
    assert_eq!(bands(&rc), 6, "{rc:?}");
}

/// An 8-second recording with one slide and no strokes; `extra` options for bbb-synth.
fn one_slide(src: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--duration", "8", "--slides", "1", "--strokes", "0"];
    args.extend(extra);
    synth(src, &args)
}

/// The audio packets' hashes of `file` (ffmpeg's framemd5, last column), in order.
fn audio_packets(file: &Path) -> Vec<String> {
    let md5 = ffmpeg_out(
        &[],
        file,
        &["-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-"],
    );
    String::from_utf8(md5)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
        .collect()
}

#[test]
fn render_copies_aac_sound_and_encodes_any_other() {
    let dir = tempfile::tempdir().unwrap();
    // webcams.mp4 (H.264 + AAC, as BBB writes it when mp4 is enabled): the sound is the
    // recording's own packets, untouched, and still in sync with the picture.
    let src = dir.path().join("mp4");
    let m = one_slide(&src, &["--media", "mp4", "--flash-every", "3"]);
    let out = dir.path().join("mp4.mp4");
    render_ok(&src, &out, &[]);
    let ours = audio_packets(&out);
    let theirs = audio_packets(&src.join("video/webcams.mp4"));
    assert!(ours.len() > 300, "{} packets", ours.len());
    let n = ours.len().min(theirs.len()) - 1;
    assert_eq!(ours[..n], theirs[..n], "the AAC packets were re-encoded");
    let (v, a) = flash_and_beep(&out, "320:240:960:0");
    let fl = f(&m["flashes"][0]);
    let tv = (0..v.len()).find(|&i| v[i] > 200).expect("flash") as f64 / 15.0;
    let ta = (0..a.len())
        .find(|&i| a[i].unsigned_abs() > 12000)
        .expect("beep") as f64
        / 8000.0;
    assert!(
        (tv - fl).abs() <= 0.072 && (ta - fl).abs() <= 0.072,
        "flash {tv} beep {ta} published {fl}"
    );
    // webcams.webm (Opus, BBB's default): encoded to AAC.
    let src = dir.path().join("webm");
    one_slide(&src, &["--media", "webm", "--flash-every", "3"]);
    let out = dir.path().join("webm.mp4");
    render_ok(&src, &out, &[]);
    let s = probe(&out, "-show_entries stream=codec_name");
    assert!(s.lines().any(|l| l == "aac"), "{s}");
}

#[test]
fn render_takes_audio_from_audio_webm_without_webcams() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rec");
    let m = one_slide(&src, &["--audio-only", "--flash-every", "100"]);
    let out = dir.path().join("a.mp4");
    render_ok(&src, &out, &[]);
    let s = probe(&out, "-show_entries stream=codec_name");
    assert!(s.lines().any(|l| l == "aac"), "{s}");
    // No webcams video: the presentation takes the full frame.
    let q = hex(m["slides"][0]["quadrants"][1].as_str().unwrap());
    assert!(close(px(&frame(&out, 5.0), W, 1260.0, 20.0), q, 24));
    let (_, a) = flash_and_beep(&out, "2:2:0:0");
    let ai = a
        .iter()
        .position(|x| x.unsigned_abs() > 12000)
        .expect("beep missing") as f64
        / 8000.0;
    let fl = f(&m["flashes"][0]);
    assert!((ai - fl).abs() < 0.05, "beep at {ai}, published at {fl}");
}

#[test]
fn render_real_published_recordings_with_polls() {
    let src = support::fixture("render/7b647dc3d3dfaa5262e4a01b8828639bb1d6c5c8-1684351990846");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("real.mp4");
    render_ok(&src, &out, &["--fps", "5"]);
    assert!((duration(&out) - 93.587).abs() <= 0.2);
    // 1600x1200 slide in 1280x720: scale 0.6, 160 px side bars. The first poll result
    // (x 1056-1600, y 1040-1200 on the slide) appears at 42.3 s.
    let region = |fr: &[u8]| {
        let bg = px(fr, W, 300.0, 300.0);
        (800..1115)
            .step_by(3)
            .flat_map(|x| (630..718).step_by(3).map(move |y| (x, y)))
            .filter(|&(x, y)| !close(px(fr, W, x as f64, y as f64), bg, 20))
            .count()
    };
    assert_eq!(
        region(&frame(&out, 40.0)),
        0,
        "poll drawn before it was published"
    );
    assert!(region(&frame(&out, 45.0)) > 20, "poll result not drawn");
    assert!(
        close(
            px(&frame(&out, 45.0), W, 80.0, 360.0),
            [0x26, 0x26, 0x26],
            12
        ),
        "4:3 slide not pillarboxed"
    );

    let src = support::fixture("render/2a1de53edf0543d950056bf3c0d4d357eba3383f-1630607370684");
    let out = dir.path().join("real2.mp4");
    render_ok(&src, &out, &["--fps", "5", "--layout", "presentation"]);
    assert!((duration(&out) - 54.187).abs() <= 0.2);
}

#[test]
fn render_tldraw_shapes_zoom_and_cursor() {
    let (_dir, out) = render_fixture("render/tldraw-2.7-synthetic");
    // 1600x900 slide in 1280x720: scale 0.8. Page space 1440x1080 → s = 0.9.
    // Rectangle r1 (page 720,405 + 360x202.5 → slide 800,450-1200,675) drawn at 10 s, undone at 30 s.
    let blue = [0x1c, 0x7e, 0xd6];
    assert!(
        near(&frame(&out, 15.0), W, H, 960.0, 500.0, 4, blue),
        "tldraw rectangle missing"
    );
    assert!(
        !near(&frame(&out, 35.0), W, H, 960.0, 500.0, 4, blue),
        "tldraw rectangle not undone"
    );
    // The photo embedded in the SVG slide (slide 1200,675-1600,900 → screen 960,540-1280,720).
    assert!(
        close(px(&frame(&out, 5.0), W, 1120.0, 630.0), hex("#2060c0"), 24),
        "picture embedded in the SVG slide missing"
    );
    // Cursor at page (720,405) = slide centre = screen centre: the player's 10 px #C70039 dot
    // (in its ~942x706 content area; 5 px radius here).
    let fr = frame(&out, 15.0);
    let tl_red = [199, 0, 57];
    assert!(
        close(px(&fr, W, 640.0, 360.0), tl_red, 16),
        "tldraw cursor missing or not the player's colour: {:?}",
        px(&fr, W, 640.0, 360.0)
    );
    assert!(
        ring(&fr, 640.0, 360.0, 3.0)
            .iter()
            .all(|c| close(*c, tl_red, 30))
            && ring(&fr, 640.0, 360.0, 8.0)
                .iter()
                .all(|c| !close(*c, tl_red, 60)),
        "tldraw cursor not 5 px in radius"
    );
    // Zoom at 20 s: camera (-360,-202.5), 800x450 px → slide (400,225)-(1200,675), scale 1.6.
    let fr = frame(&out, 22.0);
    assert!(
        close(px(&fr, W, 320.0, 180.0), hex("#f0a0a0"), 24),
        "zoomed top-left quadrant"
    );
    assert!(
        close(px(&fr, W, 960.0, 180.0), hex("#a0f0a0"), 24),
        "zoomed top-right quadrant"
    );
}

/// Pixels darker than mid-grey in the screen rectangle x0..x1, y0..y1.
fn dark(f: &[u8], x0: usize, x1: usize, y0: usize, y1: usize) -> usize {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| px(f, W, x as f64, y as f64).iter().all(|c| *c < 128))
        .count()
}

#[test]
fn render_text_boxes_like_the_player() {
    // Three text boxes of a real BBB 2.0 recording on a white 1600x1200 slide: scale 0.6,
    // 160 px side bars. Box 1 (slide 548.8,478.9, 334.9x188.8, Arial 30.9 px, lines
    // 36 px apart = 21.6 on screen): "Test de refuerzo hasta el 23␍␍Clase de refuerzo␍␍
    // Grabación Zoom"; the player shows "Test de refuerzo hasta" / "el 23" / "" /
    // "Clase de refuerzo" / "" / the top of "Grabación Zoom" cut by the box's bottom edge
    // (slide y 667.7), above box 2 ("Asuntos varios" from slide y 681.5).
    let (_dir, out) = render_fixture("render/text-boxes-2.0");
    let fr = frame(&out, 2.0);
    let (x0, x1) = (489, 690);
    // "hasta" ends the first line (the layout whitespace before <p> is not counted).
    assert!(
        dark(&fr, 628, 676, 290, 306) > 40,
        "first line wrapped too early"
    );
    // The third line is the empty one between the paragraphs; the fourth is not empty.
    assert_eq!(dark(&fr, x0, x1, 332, 350), 0, "line breaks dropped");
    assert!(
        dark(&fr, x0, x1, 354, 372) > 40,
        "\"Clase de refuerzo\" missing"
    );
    // Nothing of box 1 below its bottom edge, above box 2.
    assert_eq!(
        dark(&fr, x0, x1, 402, 408),
        0,
        "text not clipped at the box's bottom edge"
    );
    assert!(
        dark(&fr, x0, x1, 396, 400) > 5,
        "last line not drawn up to the edge"
    );
}

/// The screen x extent (first, last) of pixels close to `c` on row `y` between x0 and x1.
fn run_x(f: &[u8], y: usize, x0: usize, x1: usize, c: [u8; 3]) -> Option<(usize, usize)> {
    let xs: Vec<usize> = (x0..x1)
        .filter(|&x| close(px(f, W, x as f64, y as f64), c, 40))
        .collect();
    Some((*xs.first()?, *xs.last()?))
}

#[test]
fn render_tldraw_v1_every_shape_like_tldraw() {
    // tldraw 2.7 (v1) shapes on a 1600x900 slide: page space 1440x1080, page → screen
    // x 0.8/0.9 at full view. See the fixture's README for each shape.
    let (_dir, out) = render_fixture("render/tldraw-2.7-every-shape");
    let k = PAGE_TO_SCREEN;
    let at = |x: f64, y: f64| (x * k, y * k);
    let fr = frame(&out, 12.0);
    // Freehand: a variable-width pen stroke (size 1 + 1.5 x 3.5), not a 3.5 px line.
    let red = hex("#ff2133");
    let (x, _) = at(160.0, 0.0);
    let thick = (40..110)
        .filter(|&y| close(px(&fr, W, x, y as f64), red, 40))
        .count();
    assert!(thick >= 5, "freehand stroke {thick} px thick");
    // Hand-drawn rectangle (large: 5): a band about 2 x 5 page px, rounded corners.
    let blue = hex("#1c7ed6");
    let (x, y) = at(450.0, 60.0);
    let band = (y as usize - 6..y as usize + 14)
        .filter(|&yy| close(px(&fr, W, x, yy as f64), blue, 40))
        .count();
    assert!((6..=12).contains(&band), "rectangle edge {band} px thick");
    let (cx, cy) = at(320.0, 60.0);
    assert!(
        !close(px(&fr, W, cx + 1.0, cy + 1.0), blue, 40),
        "hand-drawn rectangle has a square corner"
    );
    // Filled triangle: tldraw's fill table (violet 82 % towards #fafafa).
    let (x, y) = at(1040.0, 180.0);
    assert!(
        close(px(&fr, W, x, y), hex("#e2daf8"), 12),
        "triangle fill {:?}",
        px(&fr, W, x, y)
    );
    // The bent arrow passes through its bend point moved as tldraw moves it: by the top-left
    // corner of its arc's bounds (the handles put the arc's top 20 page px below its point).
    let (x, y) = at(530.0, 340.0);
    assert!(near(&fr, W, H, x, y, 4, hex("#ff9433")), "bent arrow");
    let (x, y) = at(530.0, 320.0);
    assert!(
        !near(&fr, W, H, x, y, 4, hex("#ff9433")),
        "bent arrow not moved by its bounds' corner"
    );
    // Sticky note: tldraw's yellow (45 % towards #fafafa), a shadow below it, the text
    // centred in the note.
    let (x, y) = at(1220.0, 480.0);
    assert!(
        close(px(&fr, W, x, y), hex("#fddf8e"), 12),
        "sticky colour {:?}",
        px(&fr, W, x, y)
    );
    let (x, y) = at(1220.0, 503.0);
    let bg = px(&fr, W, x, y + 20.0);
    let sh = px(&fr, W, x, y);
    assert!(
        sh.iter().zip(bg).all(|(a, b)| (*a as i32) < b as i32 - 6),
        "no shadow under the sticky note: {sh:?} vs {bg:?}"
    );
    let (x0, y0) = at(1120.0, 316.0);
    let (x1, y1) = at(1320.0, 346.0);
    let (l, r) = ink_x(&fr, (x0, x1), (y0, y1), hex("#0d0d0d")).expect("sticky text missing");
    let centre = (x0 + x1) / 2.0;
    assert!(
        ((l + r) as f64 / 2.0 - centre).abs() < 6.0,
        "sticky text not centred: {l}-{r} in {x0}-{x1}"
    );
    // Text in tldraw's script face (Caveat Brush, narrower than a sans-serif): "Hello
    // tldraw" at 48 page px is about 180 screen px wide, about 250 in Liberation Sans.
    let (x0, y0) = at(760.0, 300.0);
    let (l, r) = ink_x(&fr, (x0, 990.0), (y0, y0 + 50.0), hex("#1d1d1d")).expect("text missing");
    let width = r - l;
    assert!((150..215).contains(&width), "text {width} px wide");
    // The dashed rectangle (small: lines 1 + 1.618 x 2 page px): tldraw's perfect dashes,
    // 2 x 1.618 x 2 page px long, fitted to each side: 22 along the top (page y 522), not
    // the 9 of dashes four line widths long.
    let y = (522.0 * k) as usize;
    let reds: Vec<bool> = (48..330)
        .map(|x| {
            let [r, g, b] = px(&fr, W, x as f64, y as f64);
            r as i32 > g as i32 + 60 && r as i32 > b as i32 + 20
        })
        .collect();
    let dashes = reds.windows(2).filter(|w| w[1] && !w[0]).count() + usize::from(reds[0]);
    assert!((19..=24).contains(&dashes), "{dashes} dashes along the top");
    // Undo: the dashed rectangle from 10 s is gone at 16 s.
    let (x, y) = at(210.0, 520.0);
    assert!(near(&fr, W, H, x, y, 6, red), "dashed rectangle missing");
    assert!(
        !near(&frame(&out, 16.0), W, H, x, y, 6, red),
        "dashed rectangle not undone"
    );
    // Zoomed 2x onto the bottom-left quarter (slide 0,450 800x450: 1.6 screen px per
    // slide px): the solid rectangle on the slide's left edge keeps its whole stroke
    // (1 + 1.618 x 5 page px = 16 screen px, inside its bounds), as thick as its top edge.
    let fr = frame(&out, 22.0);
    let black = hex("#1d1d1d");
    let left = run_x(&fr, 550, 0, 60, black).expect("left edge missing");
    let top_y = (600.0 / 0.9 - 450.0) * 1.6;
    let top = (top_y as usize - 6..top_y as usize + 30)
        .filter(|&y| close(px(&fr, W, 250.0, y as f64), black, 40))
        .count();
    assert_eq!(left.0, 0, "{left:?}");
    assert!(
        (left.1 + 1).abs_diff(top) <= 2 && top >= 13,
        "left edge {left:?} vs top edge {top} px"
    );
}

/// The screen x extent (first, last) of ink close to `c` in the rows y0..y1 between x0 and x1.
fn ink_x(
    f: &[u8],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    c: [u8; 3],
) -> Option<(usize, usize)> {
    let ink: Vec<usize> = (y0 as usize..y1 as usize)
        .filter_map(|y| run_x(f, y, x0 as usize, x1 as usize, c))
        .flat_map(|(a, b)| [a, b])
        .collect();
    Some((*ink.iter().min()?, *ink.iter().max()?))
}

#[test]
fn render_tldraw_v2_text_in_tldraws_fonts() {
    // tldraw v2 (BBB 3.0) texts, note and labelled rectangle on a 1600x900 slide: page
    // space 1440x1080, page → screen x 0.8/0.9. See the fixture's README.
    let out = tldraw_v2_render();
    let k = PAGE_TO_SCREEN;
    let fr = frame(out, 5.0);
    let black = hex("#1d1d1d");
    let width = |x: f64, y: f64, h: f64| {
        let (a, b) =
            ink_x(&fr, (x * k, 1100.0 * k), (y * k, (y + h) * k), black).expect("text missing");
        b - a
    };
    // "Hello tldraw" at 24 px in Shantell Sans SemiBold: 156 page px of advances (139 on
    // screen); Liberation Sans would be 125 page px (111).
    let w = width(100.0, 80.0, 32.0);
    assert!((125..=145).contains(&w), "draw-font text {w} px wide");
    // "Plex Mono" at 36 px in IBM Plex Mono: 9 x 0.6 em = 194 page px (173 on screen);
    // Liberation Sans 170 (151).
    let w = width(100.0, 460.0, 48.0);
    assert!((160..=178).contains(&w), "mono text {w} px wide");
    // tldraw v2's text outline: page-coloured (#f9fafb) around the glyphs of "Plex Mono" on
    // the #a0a0f0 quadrant; without it nothing there is lighter than the quadrant.
    let sum = |c: [u8; 3]| c.iter().map(|v| *v as i32).sum::<i32>();
    let lighter = (((460.0 * k) as usize)..((510.0 * k) as usize))
        .flat_map(|y| (((100.0 * k) as usize)..((300.0 * k) as usize)).map(move |x| (x, y)))
        .filter(|&(x, y)| sum(px(&fr, W, x as f64, y as f64)) > sum(hex("#a0a0f0")) + 60)
        .count();
    assert!(lighter >= 40, "no text outline: {lighter} light pixels");
    // The note: 200 page px square at (800,80), yellow (black notes are) under the page's
    // 28 % scrim, the text centred, a shadow below its bottom edge.
    let (x, y) = (900.0 * k, 120.0 * k);
    assert!(
        close(px(&fr, W, x, y), hex("#fdd09d"), 10),
        "note colour {:?}",
        px(&fr, W, x, y)
    );
    let (a, b) = ink_x(&fr, (800.0 * k, 1000.0 * k), (160.0 * k, 200.0 * k), black)
        .expect("note text missing");
    assert!(
        ((a + b) as f64 / 2.0 - 900.0 * k).abs() < 4.0,
        "note text not centred: {a}-{b}"
    );
    // (tldraw's shadow is small: 1 px down, 2-3 px of blur; its darkest row is the one
    // under the note's edge at page y 280, screen 248.9.)
    let (below, away) = (px(&fr, W, x, 250.0), px(&fr, W, x, 300.0 * k));
    assert!(
        sum(below) < sum(away) - 15,
        "no shadow under the note: {below:?} vs {away:?}"
    );
    // The rectangle's solid fill is the colour's semi tone; its label centred.
    let (x, y) = (830.0 * k, 530.0 * k);
    assert!(
        close(px(&fr, W, x, y), hex("#dce1f8"), 10),
        "geo fill {:?}",
        px(&fr, W, x, y)
    );
    let (a, b) =
        ink_x(&fr, (820.0 * k, 1100.0 * k), (560.0 * k, 600.0 * k), black).expect("label missing");
    assert!(
        ((a + b) as f64 / 2.0 - 960.0 * k).abs() < 4.0,
        "label not centred: {a}-{b}"
    );
}

#[test]
fn render_tldraw_v2_every_shape_kind_undo_and_zooms() {
    // The same fixture from 5.5 s: a pen stroke, ellipse, triangle, straight and bent arrows,
    // a rectangle undone, zooms 2x and 4x (see its README). Page → screen x 0.8/0.9.
    let out = tldraw_v2_render();
    let k = PAGE_TO_SCREEN;
    let at = |x: f64, y: f64| (x * k, y * k);
    let fr = frame(out, 10.0);
    let shown = |fr: &[u8], (x, y): (f64, f64), c: &str| near(fr, W, H, x, y, 3, hex(c));
    assert!(shown(&fr, at(500.0, 170.0), "#e03131"), "pen stroke");
    assert!(shown(&fr, at(420.0, 300.0), "#099268"), "ellipse");
    let (x, y) = at(710.0, 310.0);
    assert!(
        close(px(&fr, W, x, y), hex("#ecdcf2"), 12),
        "triangle fill {:?}",
        px(&fr, W, x, y)
    );
    assert!(shown(&fr, at(250.0, 600.0), "#1d1d1d"), "straight arrow");
    // Bent by -100 px: through the point 100 px above the middle of its chord.
    assert!(shown(&fr, at(600.0, 600.0), "#f76707"), "bent arrow");
    // The rectangle drawn at 8 s is undone at 9.5 s.
    assert!(
        shown(&frame(out, 8.5), at(1280.0, 100.0), "#e03131"),
        "rectangle"
    );
    assert!(
        !shown(&fr, at(1280.0, 100.0), "#e03131"),
        "undone rectangle"
    );
    // 4x onto the note at 14 s: the note fills the screen around its text.
    let fr = frame(out, 15.0);
    assert!(
        close(px(&fr, W, 400.0, 200.0), hex("#fdd09d"), 10),
        "zoomed note {:?}",
        px(&fr, W, 400.0, 200.0)
    );
}

#[test]
fn render_tldraw_v2_draw_rectangle_has_round_hand_drawn_corners() {
    // The red `dash: draw` rectangle at (1180,100), 200x150 page px, shown 8-9.5 s. tldraw v2
    // rounds a hand-drawn polygon's corners (by 2 stroke widths, 7 page px): its very corner
    // stays the green quadrant's, where a plain stroke's round join (1.75 px) covered it.
    let out = tldraw_v2_render();
    let k = PAGE_TO_SCREEN;
    let fr = frame(out, 8.5);
    let red = hex("#e03131");
    let reddish = |x: f64, y: f64| {
        let c = px(&fr, W, x * k, y * k);
        (c[0] as i32 - c[1] as i32) > 40
    };
    // The top edge is drawn...
    assert!(near(&fr, W, H, 1280.0 * k, 100.0 * k, 3, red), "top edge");
    // ...but not the square corner: no red in the page px just outside and on it.
    let corner: Vec<(f64, f64)> = [(1178.5, 98.5), (1179.5, 99.5), (1180.0, 100.0)].to_vec();
    for (x, y) in corner {
        assert!(
            !reddish(x, y),
            "corner ({x},{y}) inked: {:?}",
            px(&fr, W, x * k, y * k)
        );
    }
}

#[test]
fn render_refuses_a_recording_with_missing_or_corrupt_required_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rec");
    synth(
        &src,
        &[
            "--duration",
            "6",
            "--slides",
            "1",
            "--media",
            "none",
            "--flash-every",
            "0",
        ],
    );
    let out = dir.path().join("x.mp4");
    let slide = std::fs::read_dir(src.join("presentation"))
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .unwrap()
        .path()
        .join("slide-1.png");
    std::fs::write(&slide, b"not a png").unwrap();
    let r = render(&src, &out, &[]);
    r.fails_with(2)
        .stderr_has("slide-1.png")
        .stderr_has("not a valid PNG");
    std::fs::remove_file(&slide).unwrap();
    let r = render(&src, &out, &[]);
    r.fails_with(2).stderr_has("slide-1.png is missing");
    std::fs::write(src.join("shapes.svg"), "<svg").unwrap();
    let r = render(&src, &out, &[]);
    r.fails_with(2).stderr_has("shapes.svg");
    std::fs::remove_file(src.join("metadata.xml")).unwrap();
    let r = render(&src, &out, &[]);
    r.fails_with(2).stderr_has("metadata.xml missing");
    assert!(!out.exists(), "no output after a refusal");
}
