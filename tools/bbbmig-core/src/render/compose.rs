//! The screen layout, and the ffmpeg run that composes the picture of one stretch of the
//! video (presentation frames, cursor, screen share, webcams, chat) into H.264.

use super::model::CursorMove;
use super::options::{Layout, RenderOptions};
use super::svg::BACKGROUND;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A box on the screen, in pixels from the top-left corner (even numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The box at (`x`, `y`) of size `w`x`h`.
const fn at(x: u32, y: u32, w: u32, h: u32) -> ScreenBox {
    ScreenBox { x, y, w, h }
}

/// Where everything goes on the `w`x`h` screen.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub w: u32,
    pub h: u32,
    /// Presentation / screen-share area.
    pub area: ScreenBox,
    /// Webcams box (video fitted inside).
    pub cams: Option<ScreenBox>,
    pub chat: Option<ScreenBox>,
}

fn even(v: u32) -> u32 {
    (v / 2 * 2).max(2)
}

impl Geometry {
    pub fn new(opts: &RenderOptions, has_cams: bool) -> Geometry {
        let (w, h) = (even(opts.width), even(opts.height));
        let col = even(w / 4);
        let full = at(0, 0, w, h);
        let left = at(0, 0, w - col, h);
        match opts.layout {
            Layout::Bbb => match (has_cams, opts.chat) {
                (false, false) => Geometry {
                    w,
                    h,
                    area: full,
                    cams: None,
                    chat: None,
                },
                (true, false) => Geometry {
                    w,
                    h,
                    area: left,
                    cams: Some(at(w - col, 0, col, h)),
                    chat: None,
                },
                (false, true) => Geometry {
                    w,
                    h,
                    area: left,
                    cams: None,
                    chat: Some(at(w - col, 0, col, h)),
                },
                (true, true) => {
                    let ch = even(col * 3 / 4);
                    Geometry {
                        w,
                        h,
                        area: left,
                        cams: Some(at(w - col, 0, col, ch)),
                        chat: Some(at(w - col, ch, col, h - ch)),
                    }
                }
            },
            Layout::Presentation => Geometry {
                w,
                h,
                area: if opts.chat { left } else { full },
                cams: None,
                chat: opts.chat.then_some(at(w - col, 0, col, h)),
            },
            Layout::Overlay => {
                let area = if opts.chat { left } else { full };
                let cw = even(w / 5);
                let chh = even(cw * 3 / 4);
                let m = even(h / 60);
                Geometry {
                    w,
                    h,
                    area,
                    cams: has_cams.then_some(at(area.w - cw - m, h - chh - m, cw, chh)),
                    chat: opts.chat.then_some(at(w - col, 0, col, h)),
                }
            }
        }
    }
}

impl Geometry {
    /// The column right of the presentation area that holds the webcams and the chat, when
    /// the area is at the screen's top-left corner, full height, and both (when shown) are in
    /// that column.
    pub fn column(&self) -> Option<ScreenBox> {
        let a = self.area;
        let col = at(a.w, 0, self.w.checked_sub(a.w)?, self.h);
        let inside = |b: &ScreenBox| b.x >= col.x && b.y + b.h <= col.h && b.x + b.w <= self.w;
        let boxes: Vec<&ScreenBox> = [&self.cams, &self.chat].into_iter().flatten().collect();
        (a.x == 0 && a.y == 0 && a.h == self.h && col.w > 0 && !boxes.is_empty())
            .then_some(col)
            .filter(|_| boxes.into_iter().all(inside))
    }
}

/// Pictures shown one after the other: (PNG file, seconds shown), from time 0.
pub type Stills = Vec<(PathBuf, f64)>;

/// A cursor track on the screen: where the cursor image's top-left corner is, from when.
pub type CursorTrack = Vec<CursorMove>;

/// Where the cursor overlay goes while the cursor is hidden (off the screen).
const HIDDEN_XY: f64 = -1000.0;

/// Everything a render combines.
pub struct Inputs<'a> {
    pub geo: Geometry,
    pub duration: f64,
    pub slides: Stills,
    /// The cursor dot's pictures (their size follows the zoom), timed like `slides`.
    pub cursor_dots: Stills,
    pub cursor: CursorTrack,
    pub chat: Option<Stills>,
    pub webcams: Option<&'a Path>,
    pub audio: Option<&'a Path>,
    pub deskshare: Option<(&'a Path, &'a [(f64, f64)])>,
    /// (locale, file)
    pub captions: Vec<(String, PathBuf)>,
    pub chapters: Option<PathBuf>,
    /// Whether the sound is copied or encoded.
    pub sound: super::audio::Sound,
    pub work: &'a Path,
}

/// A stretch of the video rendered by one ffmpeg run: frames `first..first + frames`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub first: u64,
    pub frames: u64,
}

impl Span {
    /// Start and end on the recording's timeline, seconds.
    pub fn times(&self, fps: u32) -> (f64, f64) {
        let f = fps.max(1) as f64;
        (self.first as f64 / f, (self.first + self.frames) as f64 / f)
    }
}

/// Counts the inputs of an ffmpeg command line as they are added.
#[derive(Default)]
pub struct FfmpegArgs {
    inputs: usize,
}

impl FfmpegArgs {
    /// The options every run starts with: no prompt, errors only, overwrite.
    pub fn quiet() -> Vec<String> {
        ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
            .map(String::from)
            .to_vec()
    }

    /// Adds `pre… -i file` to `args`; returns the input's index.
    pub fn input(&mut self, args: &mut Vec<String>, pre: &[&str], file: &Path) -> usize {
        args.extend(pre.iter().map(|s| s.to_string()));
        args.push("-i".into());
        args.push(file.to_string_lossy().into_owned());
        self.inputs += 1;
        self.inputs - 1
    }
}

/// Writes an ffconcat list of the stills shown during `[a, b)`, timed from `a`. Durations
/// are differences of millisecond-rounded instants, so that they never drift.
fn write_concat(path: &Path, items: &[(PathBuf, f64)], a: f64, b: f64) -> Result<()> {
    let ms = |t: f64| (t * 1000.0).round() as i64;
    let mut shown: Vec<(&Path, i64)> = Vec::new();
    let mut t = 0.0f64;
    for (f, d) in items {
        let (from, to) = (t.max(a), (t + d).min(b));
        t += d;
        if ms(to) > ms(from) {
            shown.push((f, ms(to - a) - ms(from - a)));
        }
    }
    if shown.is_empty() {
        // Past the last still (tpad repeats it); before the first one cannot happen.
        if let Some((f, _)) = items.last() {
            shown.push((f, ms(b - a).max(1)));
        } else {
            bail!("nothing to show");
        }
    }
    let mut s = String::from("ffconcat version 1.0\n");
    for (f, d) in &shown {
        let name = f.to_string_lossy();
        if name.contains('\'') || name.contains('\n') {
            bail!("unsupported temporary path {name:?}");
        }
        let _ = writeln!(s, "file '{name}'\nduration {}.{:03}", d / 1000, d % 1000);
    }
    // The last entry's duration is only honoured when the file is repeated.
    if let Some((f, _)) = shown.last() {
        let _ = writeln!(s, "file '{}'", f.to_string_lossy());
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))
}

/// Seconds of cursor track per ffmpeg command (see `cursor_commands`).
const CURSOR_CHUNK_S: f64 = 10.0;

/// Seconds of track before its start that each cursor command repeats: ffmpeg's overlay
/// looks a frame or two ahead, so a command may reach it while it still draws earlier frames.
const CURSOR_OVERLAP_S: f64 = 1.0;

/// The time, on a clock at `fps` frames per second, halfway between the frame before the
/// instant `t` and the first frame at or after it: `gte(t, edge)` holds from that frame on,
/// whatever the rounding of frame times.
fn frame_edge(t: f64, fps: u32) -> f64 {
    let f = fps.max(1) as f64;
    ((t * f - 1e-6).ceil() - 0.5) / f
}

/// sendcmd script moving the cursor overlay during `[a, b)`, timed from `a`: one command per
/// `chunk` seconds setting x and y to step functions of t (`x0 + dx1*gte(t,t1) + …`), each
/// starting from where the cursor was `CURSOR_OVERLAP_S` before the command so that it holds
/// for frames the overlay draws a little after receiving it. One command per cursor event
/// would be exact too, but ffmpeg's sendcmd needs tens of KB per command (gigabytes for an
/// hour of 0.1 s cursor events); a few hundred long expressions cost nothing.
fn cursor_commands(track: &[CursorMove], a: f64, b: f64, fps: u32, chunk: f64) -> String {
    // Where the cursor is at `a`, then its moves until `b`, on the span's clock: (t, x, y).
    let xy = |m: &CursorMove| m.pos.map_or((HIDDEN_XY, HIDDEN_XY), |p| (p.x, p.y));
    let first = track.partition_point(|m| m.t <= a);
    let at_a = first
        .checked_sub(1)
        .map_or((HIDDEN_XY, HIDDEN_XY), |i| xy(&track[i]));
    let moves = track[first..].iter().take_while(|m| m.t < b).map(|m| {
        let (x, y) = xy(m);
        (frame_edge(m.t - a, fps), x, y)
    });
    let track: Vec<(f64, f64, f64)> = std::iter::once((f64::NEG_INFINITY, at_a.0, at_a.1))
        .chain(moves)
        .collect();
    let mut out = String::new();
    let mut start = 0.0;
    // track[k] is the first move of the chunk beginning at `start`.
    let mut k = 1;
    loop {
        let from = start - CURSOR_OVERLAP_S;
        // The position before the first move the command repeats.
        let base = track.partition_point(|m| m.0 < from).max(1) - 1;
        let (mut x, mut y) = (track[base].1, track[base].2);
        let (mut ex, mut ey) = (format!("{x}"), format!("{y}"));
        let mut i = base + 1;
        while i < track.len() && track[i].0 < start + chunk {
            let (t, nx, ny) = track[i];
            if nx != x {
                let _ = write!(ex, "+{}*gte(t,{t:.4})", nx - x);
            }
            if ny != y {
                let _ = write!(ey, "+{}*gte(t,{t:.4})", ny - y);
            }
            (x, y) = (nx, ny);
            i += 1;
        }
        let _ = writeln!(
            out,
            "{start:.3} overlay@cur x '{ex}', overlay@cur y '{ey}';"
        );
        k = i.max(k);
        if k >= track.len() {
            break;
        }
        start = track[k].0.max(start + chunk);
    }
    out
}

/// The ffmpeg arguments that render the picture (no audio) of `span` into the MP4 file `out`,
/// with its lists and filter graph written to the work folder under `name`. `threads`:
/// x264 threads (0 = ffmpeg's choice).
pub fn span_args(
    inp: &Inputs,
    opts: &RenderOptions,
    span: Span,
    name: &str,
    threads: usize,
    out: &Path,
) -> Result<Vec<String>> {
    let g = inp.geo;
    let fps = opts.fps.max(1);
    let (a, b) = span.times(fps);
    let work = inp.work;
    let mut cmd = FfmpegArgs::default();
    let mut input = |args: &mut Vec<String>, pre: &[&str], file: &Path| cmd.input(args, pre, file);
    let mut args = FfmpegArgs::quiet();
    let concat = ["-f", "concat", "-safe", "0"];
    let slides = work.join(format!("{name}-slides.txt"));
    write_concat(&slides, &inp.slides, a, b)?;
    let i_slides = input(&mut args, &concat, &slides);
    let dots = work.join(format!("{name}-cursor.txt"));
    write_concat(&dots, &inp.cursor_dots, a, b)?;
    let i_cursor = input(&mut args, &concat, &dots);
    let i_chat = match &inp.chat {
        Some(items) => {
            let list = work.join(format!("{name}-chat.txt"));
            write_concat(&list, items, a, b)?;
            Some(input(&mut args, &concat, &list))
        }
        None => None,
    };
    let cmds = work.join(format!("{name}-cursor.cmd"));
    std::fs::write(
        &cmds,
        cursor_commands(&inp.cursor, a, b, fps, CURSOR_CHUNK_S),
    )
    .with_context(|| format!("writing {}", cmds.display()))?;

    let mut fg = String::new();
    // The right column (webcams, chat) beside a presentation area at the top-left corner is
    // composed apart and put beside the area (xstack: a copy), so that the area's frames are
    // smaller and nothing is blended over the whole screen.
    let column = g.column();
    let canvas = match column {
        Some(_) => ScreenBox {
            x: 0,
            y: 0,
            ..g.area
        },
        None => at(0, 0, g.w, g.h),
    };
    base_with_cursor(&mut fg, canvas, g.area, fps, i_slides, i_cursor, &cmds);
    let mut last = "v0".to_string();
    if let Some((f, ivals)) = inp.deskshare.filter(|(_, ivals)| !ivals.is_empty()) {
        let file = media_link(work, "deskshare", f)?;
        last = deskshare_overlays(&mut fg, last, g.area, &file, ivals, (a, b), fps);
    }
    let bg = background();
    // What the webcams are drawn over: the screen, or the column.
    let mut under = match column {
        Some(col) => {
            match (i_chat, g.chat) {
                // The chat panels, padded to the column, are its background.
                (Some(i), Some(chat)) => {
                    let _ = writeln!(
                        fg,
                        "[{i}:v]format=yuv420p,pad={}:{}:{}:{}:color={bg},fps={fps},tpad=stop=-1:stop_mode=clone[col];",
                        col.w,
                        col.h,
                        chat.x - col.x,
                        chat.y - col.y
                    );
                }
                _ => {
                    let _ = writeln!(fg, "color=c={bg}:s={}x{}:r={fps}[col];", col.w, col.h);
                }
            }
            "col".to_string()
        }
        None => last.clone(),
    };
    let origin = column.map_or((0, 0), |c| (c.x, c.y));
    if let (Some(f), Some(cams)) = (inp.webcams, g.cams) {
        let file = media_link(work, "webcams", f)?;
        let seek = (a - 1.0).max(0.0);
        let ScreenBox { x, y, w, h } = cams;
        let (x, y) = (x - origin.0, y - origin.1);
        // One decoding thread: ffmpeg's default (one per core, frame threads) costs more in
        // hand-overs than it saves on small webcam frames, and the runs already fill the cores.
        // Scaled before fps, which then only repeats frames.
        let _ = writeln!(
            fg,
            "movie='{file}':seek_point={seek:.3}:dec_threads=1,setpts=PTS-{a:.3}/TB,scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=fast_bilinear,format=yuv420p,fps={fps}[cam];"
        );
        let _ = writeln!(
            fg,
            "[{under}][cam]overlay=x={x}+({w}-w)/2:y={y}:eof_action=repeat[v2];"
        );
        under = "v2".into();
    }
    match column {
        Some(col) => {
            let _ = writeln!(
                fg,
                "[{last}][{under}]xstack=inputs=2:layout=0_0|{}_{}[v3];",
                col.x, col.y
            );
            last = "v3".into();
        }
        None => {
            last = under;
            if let (Some(i), Some(chat)) = (i_chat, g.chat) {
                let _ = writeln!(fg, "[{i}:v]format=yuv420p[chat];");
                let _ = writeln!(
                    fg,
                    "[{last}][chat]overlay=x={}:y={}:eof_action=repeat[v3];",
                    chat.x, chat.y
                );
                last = "v3".into();
            }
        }
    }
    let _ = write!(fg, "[{last}]null[vout]");
    let script = work.join(format!("{name}-filter.txt"));
    std::fs::write(&script, &fg).with_context(|| format!("writing {}", script.display()))?;
    // Runs side by side: the filters in the run's own thread too. ffmpeg's default slice
    // threads (one per core) cost more in hand-overs than they save (18% of a run's CPU).
    if threads > 0 {
        args.extend(["-filter_complex_threads".into(), threads.to_string()]);
    }
    args.extend([
        "-filter_complex_script".into(),
        script.to_string_lossy().into_owned(),
        "-map".into(),
        "[vout]".into(),
        "-an".into(),
    ]);
    args.extend(encoder_args(opts, span, threads, out));
    Ok(args)
}

/// The letterbox colour as ffmpeg writes it.
fn background() -> String {
    format!(
        "0x{:02x}{:02x}{:02x}",
        BACKGROUND[0], BACKGROUND[1], BACKGROUND[2]
    )
}

/// The filter graph's start: the slide pictures placed at `area` on the `canvas` (its size;
/// the screen, or the area alone) at `fps` (`[base]`), with the cursor overlay moved by the
/// sendcmd script `cmds` on top (`[v0]`).
fn base_with_cursor(
    fg: &mut String,
    canvas: ScreenBox,
    area: ScreenBox,
    fps: u32,
    i_slides: usize,
    i_cursor: usize,
    cmds: &Path,
) {
    let bg = background();
    let (x, y) = (area.x - canvas.x, area.y - canvas.y);
    let _ = writeln!(
        fg,
        "[{i_slides}:v]format=yuv420p,pad={w}:{h}:{x}:{y}:color={bg},fps={fps},tpad=stop=-1:stop_mode=clone[base];",
        w = canvas.w,
        h = canvas.h
    );
    let cmds = cmds
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('\'', "\\'");
    let _ = writeln!(fg, "[base]sendcmd=f='{cmds}'[base2];");
    let _ = writeln!(
        fg,
        "[base2][{i_cursor}:v]overlay@cur=x={HIDDEN_XY}:y={HIDDEN_XY}:eval=frame[v0];"
    );
}

/// Overlays of the screen share `file` on the presentation `area` during its intervals that
/// meet the span `[a, b)`, one `movie` source per group of close intervals; returns the
/// graph's last label.
///
/// The overlay is moved off the screen outside the intervals by its x expression, evaluated
/// on each main frame's time. Its `enable` option would not do: ffmpeg evaluates it on the
/// last frame the overlay took from either input, which is one read ahead, so the frame
/// before a share showed the share video's picture before it began (black) and the frame
/// before its end the presentation.
///
/// Webcams and screen share are read by `movie` sources that seek to the keyframe before the
/// span and keep every frame (with their own clock moved to the span's), so that the picture
/// shown at the span's first frame is there even when it began long before (screen shares
/// have a frame every few seconds). ffmpeg's input -ss would drop it; -ss with -itsoffset
/// times -t from the offset.
fn deskshare_overlays(
    fg: &mut String,
    mut last: String,
    area: ScreenBox,
    file: &str,
    ivals: &[(f64, f64)],
    (a, b): (f64, f64),
    fps: u32,
) -> String {
    let ScreenBox { x, y, w, h } = area;
    let groups = group_intervals(ivals, 5.0);
    let meeting = groups.iter().filter(|g| {
        let (gs, ge) = (g[0].0, g.last().map_or(g[0].1, |g| g.1));
        ge > a && gs < b
    });
    for (k, group) in meeting.enumerate() {
        let (gs, ge) = (group[0].0, group.last().map_or(group[0].1, |g| g.1));
        // Decoding ends a little after the span: its last frames need the next
        // picture's time to know that theirs still shows.
        let seek = (gs.max(a) - 0.5).max(0.0);
        let end = ge.min(b + 1.0) + 0.5 - a;
        let en: Vec<String> = group
            .iter()
            .map(|(s, e)| {
                let (s, e) = (frame_edge(s - a, fps), frame_edge(e - a, fps));
                format!("gte(t\\,{s:.4})*lt(t\\,{e:.4})")
            })
            .collect();
        let _ = writeln!(
            fg,
            "movie='{file}':seek_point={seek:.3}:dec_threads=1,setpts=PTS-{a:.3}/TB,trim=end={end:.3},scale={w}:{h}:force_original_aspect_ratio=decrease:flags=fast_bilinear,pad={w}:{h}:-1:-1:color=black,format=yuv420p[desk{k}];"
        );
        let _ = writeln!(
            fg,
            "[{last}][desk{k}]overlay=x='if({}\\,{x}\\,{HIDDEN_XY}-{w})':y={y}:eof_action=pass[vd{k}];",
            en.join("+")
        );
        last = format!("vd{k}");
    }
    last
}

/// The x264 arguments of a span's run, writing the MP4 `out`.
fn encoder_args(opts: &RenderOptions, span: Span, threads: usize, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "-c:v",
        "libx264",
        "-preset",
        opts.preset.name(),
        "-pix_fmt",
        "yuv420p",
        "-r",
        &opts.fps.max(1).to_string(),
        "-frames:v",
        &span.frames.to_string(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(opts.quality.args());
    if threads > 0 {
        args.extend(["-threads".into(), threads.to_string()]);
    }
    args.extend([
        "-f".into(),
        "mp4".into(),
        out.to_string_lossy().into_owned(),
    ]);
    args
}

/// A link named `name.<extension>` in the work folder to the media file `file`, so that the
/// filter graph names it without any quoting trouble (the recording's folder may hold
/// any character).
fn media_link(work: &Path, name: &str, file: &Path) -> Result<String> {
    let ext: String = file
        .extension()
        .map(|e| {
            e.to_string_lossy()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect()
        })
        .unwrap_or_default();
    let link = work.join(format!("{name}.{ext}"));
    if !link.exists() {
        let target =
            std::path::absolute(file).with_context(|| format!("locating {}", file.display()))?;
        std::os::unix::fs::symlink(&target, &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    let s = link.to_string_lossy().into_owned();
    if s.contains(['\'', '\\', '\n']) {
        bail!("unsupported temporary path {s:?}");
    }
    Ok(s)
}

/// Sorted intervals grouped where the gap between neighbours is under `gap` seconds.
fn group_intervals(ivals: &[(f64, f64)], gap: f64) -> Vec<Vec<(f64, f64)>> {
    let mut v = ivals.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for iv in v {
        match out.last_mut() {
            Some(g) if iv.0 - g.last().map(|l| l.1).unwrap_or(iv.0) < gap => g.push(iv),
            _ => out.push(vec![iv]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::model::Point;

    /// The cursor at (x, y) from t.
    fn mv(t: f64, x: f64, y: f64) -> CursorMove {
        CursorMove {
            t,
            pos: Some(Point { x, y }),
        }
    }

    #[test]
    fn close_share_intervals_share_one_input() {
        let g = group_intervals(&[(50.0, 60.0), (10.0, 20.0), (22.0, 30.0)], 5.0);
        assert_eq!(
            g,
            vec![vec![(10.0, 20.0), (22.0, 30.0)], vec![(50.0, 60.0)]]
        );
    }

    #[test]
    fn cursor_commands_are_step_functions_per_chunk_switching_between_frames() {
        let track = [mv(0.0, 1.0, 2.0), mv(0.5, 3.0, 2.0), mv(12.0, 5.0, 6.0)];
        // At 10 fps a move at 0.5 s shows from the frame at 0.5 s: the step is half a frame
        // before it.
        let c = cursor_commands(&track, 0.0, 100.0, 10, 10.0);
        assert_eq!(
            c,
            "0.000 overlay@cur x '1+2*gte(t,0.4500)', overlay@cur y '2';\n11.950 overlay@cur x '3+2*gte(t,11.9500)', overlay@cur y '2+4*gte(t,11.9500)';\n"
        );
    }

    #[test]
    fn each_cursor_command_repeats_the_moves_just_before_it() {
        let track = [mv(0.0, 0.0, 0.0), mv(0.5, 1.0, 0.0), mv(1.2, 2.0, 0.0)];
        let c = cursor_commands(&track, 0.0, 10.0, 10, 1.0);
        assert_eq!(
            c,
            "0.000 overlay@cur x '0+1*gte(t,0.4500)', overlay@cur y '0';\n1.150 overlay@cur x '0+1*gte(t,0.4500)+1*gte(t,1.1500)', overlay@cur y '0';\n"
        );
    }

    #[test]
    fn a_later_span_starts_where_the_cursor_is_and_runs_on_its_own_clock() {
        let track = [
            mv(0.0, 1.0, 2.0),
            mv(0.5, 3.0, 2.0),
            mv(12.0, 5.0, 6.0),
            mv(30.0, 7.0, 7.0),
        ];
        let c = cursor_commands(&track, 10.0, 20.0, 10, 10.0);
        assert_eq!(
            c,
            "0.000 overlay@cur x '3+2*gte(t,1.9500)', overlay@cur y '2+4*gte(t,1.9500)';\n"
        );
        // Before the first event the cursor is hidden.
        let c = cursor_commands(&[mv(5.0, 1.0, 1.0)], 0.0, 10.0, 10, 10.0);
        assert!(
            c.starts_with("0.000 overlay@cur x '-1000+1001*gte(t,4.9500)'"),
            "{c}"
        );
    }

    #[test]
    fn a_hidden_cursor_moves_off_the_screen() {
        let hidden = CursorMove { t: 1.0, pos: None };
        let c = cursor_commands(&[mv(0.0, 10.0, 20.0), hidden], 0.0, 10.0, 10, 10.0);
        assert_eq!(
            c,
            "0.000 overlay@cur x '10+-1010*gte(t,0.9500)', overlay@cur y '20+-1020*gte(t,0.9500)';\n"
        );
    }

    #[test]
    fn frame_edges_fall_between_frames() {
        assert_eq!(frame_edge(150.0, 15), 2249.5 / 15.0);
        assert_eq!(frame_edge(61.7, 15), 925.5 / 15.0);
        assert_eq!(frame_edge(0.01, 10), 0.05);
    }

    #[test]
    fn concat_lists_hold_what_a_span_shows_without_drift() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("l.txt");
        let items: Vec<(PathBuf, f64)> = (0..3)
            .map(|i| (PathBuf::from(format!("/s{i}.png")), 1.0 / 3.0))
            .chain([(PathBuf::from("/last.png"), 5.0)])
            .collect();
        write_concat(&list, &items, 0.5, 2.0).unwrap();
        let s = std::fs::read_to_string(&list).unwrap();
        assert_eq!(
            s,
            "ffconcat version 1.0\nfile '/s1.png'\nduration 0.167\nfile '/s2.png'\nduration 0.333\nfile '/last.png'\nduration 1.000\nfile '/last.png'\n"
        );
        // Past the end of every still: the last one, for the whole span.
        write_concat(&list, &items, 10.0, 12.0).unwrap();
        let s = std::fs::read_to_string(&list).unwrap();
        assert!(s.contains("file '/last.png'\nduration 2.000"), "{s}");
    }

    #[test]
    fn bbb_layout_puts_webcams_in_a_right_column() {
        let g = Geometry::new(&RenderOptions::default(), true);
        assert_eq!(g.area, at(0, 0, 960, 720));
        assert_eq!(g.cams, Some(at(960, 0, 320, 720)));
    }

    #[test]
    fn the_side_column_is_composed_apart_only_beside_the_area() {
        // Webcams right of the area: the column 320 px wide, full height.
        let g = Geometry::new(&RenderOptions::default(), true);
        assert_eq!(g.column(), Some(at(960, 0, 320, 720)));
        // Nothing beside the area: no column.
        assert_eq!(
            Geometry::new(&RenderOptions::default(), false).column(),
            None
        );
        // Webcams over the area (overlay layout): blended there, no column.
        let o = RenderOptions {
            layout: Layout::Overlay,
            ..RenderOptions::default()
        };
        assert_eq!(Geometry::new(&o, true).column(), None);
        // Chat beside it (with or without webcams): the column.
        let c = RenderOptions {
            layout: Layout::Overlay,
            chat: true,
            ..RenderOptions::default()
        };
        assert_eq!(
            Geometry::new(&c, false).column(),
            Some(at(960, 0, 320, 720))
        );
    }
}
