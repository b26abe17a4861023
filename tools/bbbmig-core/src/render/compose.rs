//! The screen layout and the single ffmpeg run that composes presentation frames, cursor,
//! screen share, webcams, chat, audio, captions and chapters into one H.264/AAC MP4.

use super::{Layout, RenderOptions};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A box on the screen: x, y, width, height (even numbers).
pub type BoxXywh = (u32, u32, u32, u32);

/// Where everything goes on the `w`x`h` screen.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub w: u32,
    pub h: u32,
    /// Presentation / screen-share area.
    pub area: BoxXywh,
    /// Webcams box (video fitted inside).
    pub cams: Option<BoxXywh>,
    pub chat: Option<BoxXywh>,
}

fn even(v: u32) -> u32 {
    (v / 2 * 2).max(2)
}

impl Geometry {
    pub fn new(opts: &RenderOptions, has_cams: bool) -> Geometry {
        let (w, h) = (even(opts.width), even(opts.height));
        let col = even(w / 4);
        let full = (0, 0, w, h);
        let left = (0, 0, w - col, h);
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
                    cams: Some((w - col, 0, col, h)),
                    chat: None,
                },
                (false, true) => Geometry {
                    w,
                    h,
                    area: left,
                    cams: None,
                    chat: Some((w - col, 0, col, h)),
                },
                (true, true) => {
                    let ch = even(col * 3 / 4);
                    Geometry {
                        w,
                        h,
                        area: left,
                        cams: Some((w - col, 0, col, ch)),
                        chat: Some((w - col, ch, col, h - ch)),
                    }
                }
            },
            Layout::Presentation => Geometry {
                w,
                h,
                area: if opts.chat { left } else { full },
                cams: None,
                chat: opts.chat.then_some((w - col, 0, col, h)),
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
                    cams: has_cams.then_some((area.2 - cw - m, h - chh - m, cw, chh)),
                    chat: opts.chat.then_some((w - col, 0, col, h)),
                }
            }
        }
    }
}

/// A still-image stream: PNG files with their display intervals.
pub struct Stills {
    pub list: PathBuf,
}

/// Writes an ffconcat list of `(file, duration)`.
pub fn write_concat(path: &Path, items: &[(PathBuf, f64)]) -> Result<Stills> {
    let mut s = String::from("ffconcat version 1.0\n");
    for (f, d) in items {
        let name = f.to_string_lossy();
        if name.contains('\'') || name.contains('\n') {
            bail!("unsupported temporary path {name:?}");
        }
        let _ = writeln!(s, "file '{name}'\nduration {:.3}", d.max(0.001));
    }
    // The last entry's duration is only honoured when the file is repeated.
    if let Some((f, _)) = items.last() {
        let _ = writeln!(s, "file '{}'", f.to_string_lossy());
    }
    std::fs::write(path, s).with_context(|| format!("writing {}", path.display()))?;
    Ok(Stills {
        list: path.to_path_buf(),
    })
}

/// A screen-share input: input index, its intervals, and the span decoded.
type DeskInput = (usize, Vec<(f64, f64)>, f64, f64);

/// Everything the ffmpeg run combines.
pub struct Inputs<'a> {
    pub geo: Geometry,
    pub duration: f64,
    pub slides: Stills,
    pub cursor_png: PathBuf,
    pub cursor_cmds: PathBuf,
    pub chat: Option<Stills>,
    pub webcams: Option<&'a Path>,
    pub audio: Option<&'a Path>,
    pub deskshare: Option<(&'a Path, &'a [(f64, f64)])>,
    /// (locale, file)
    pub captions: Vec<(String, PathBuf)>,
    pub chapters: Option<PathBuf>,
    pub work: &'a Path,
}

fn lang3(locale: &str) -> &'static str {
    match locale.split(['-', '_']).next().unwrap_or("") {
        "en" => "eng",
        "fr" => "fra",
        "de" => "deu",
        "es" => "spa",
        "it" => "ita",
        "pt" => "por",
        "nl" => "nld",
        "ru" => "rus",
        "ar" => "ara",
        "zh" => "zho",
        "ja" => "jpn",
        "pl" => "pol",
        "tr" => "tur",
        _ => "und",
    }
}

/// Runs ffmpeg once; the output is written to `out`.
pub fn run(inp: &Inputs, opts: &RenderOptions, out: &Path) -> Result<()> {
    let g = inp.geo;
    let (ax, ay, aw, ah) = g.area;
    let fps = opts.fps.max(1);
    let mut args: Vec<String> = vec![
        "-nostdin".into(),
        "-hide_banner".into(),
        "-loglevel".into(),
        "error".into(),
        "-y".into(),
    ];
    let mut n = 0usize;
    let mut input = |args: &mut Vec<String>, pre: &[&str], file: &Path| -> usize {
        args.extend(pre.iter().map(|s| s.to_string()));
        args.push("-i".into());
        args.push(file.to_string_lossy().into_owned());
        n += 1;
        n - 1
    };
    let concat = ["-f", "concat", "-safe", "0"];
    let i_slides = input(&mut args, &concat, &inp.slides.list);
    let i_cursor = input(&mut args, &[], &inp.cursor_png);
    let i_chat = inp
        .chat
        .as_ref()
        .map(|c| input(&mut args, &concat, &c.list));
    let i_cams = inp.webcams.map(|f| input(&mut args, &[], f));
    let i_audio = inp.audio.map(|f| input(&mut args, &[], f));
    // The screen share spans the whole recording: decode only around its intervals, one input
    // per group of close intervals, timestamps kept on the recording's timeline.
    let mut i_desk: Vec<DeskInput> = Vec::new();
    if let Some((file, ivals)) = inp.deskshare {
        for group in group_intervals(ivals, 5.0) {
            let from = (group[0].0 - 0.5).max(0.0);
            let to = group.last().map(|g| g.1).unwrap_or(from) + 0.5;
            // -ss seeks to the keyframe before `from` without moving the timestamps (given
            // -itsoffset); trim drops what lies outside [from, to] before any scaling.
            let ss = format!("{from:.3}");
            let i = input(&mut args, &["-ss", &ss, "-itsoffset", &ss], file);
            i_desk.push((i, group, from, to));
        }
    }
    let i_caps: Vec<usize> = inp
        .captions
        .iter()
        .map(|(_, f)| input(&mut args, &[], f))
        .collect();
    let i_chap = inp
        .chapters
        .as_ref()
        .map(|f| input(&mut args, &["-f", "ffmetadata"], f));

    let bg = format!(
        "0x{:02x}{:02x}{:02x}",
        super::raster::BACKGROUND[0],
        super::raster::BACKGROUND[1],
        super::raster::BACKGROUND[2]
    );
    let mut fg = String::new();
    let _ = writeln!(
        fg,
        "[{i_slides}:v]format=yuv420p,pad={w}:{h}:{ax}:{ay}:color={bg},fps={fps},tpad=stop=-1:stop_mode=clone[base];",
        w = g.w,
        h = g.h
    );
    let cmds = inp
        .cursor_cmds
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('\'', "\\'");
    let _ = writeln!(fg, "[base]sendcmd=f='{cmds}'[base2];");
    let _ = writeln!(
        fg,
        "[base2][{i_cursor}:v]overlay@cur=x=-1000:y=-1000:eval=frame[v0];"
    );
    let mut last = "v0".to_string();
    for (k, (i, ivals, from, to)) in i_desk.iter().enumerate() {
        let en: Vec<String> = ivals
            .iter()
            .map(|(a, b)| format!("gte(t\\,{a:.3})*lt(t\\,{b:.3})"))
            .collect();
        let _ = writeln!(
            fg,
            "[{i}:v]trim=start={from:.3}:end={to:.3},scale={aw}:{ah}:force_original_aspect_ratio=decrease:flags=fast_bilinear,pad={aw}:{ah}:-1:-1:color=black,format=yuv420p[desk{k}];"
        );
        let _ = writeln!(
            fg,
            "[{last}][desk{k}]overlay=x={ax}:y={ay}:eof_action=pass:enable='{}'[vd{k}];",
            en.join("+")
        );
        last = format!("vd{k}");
    }
    if let (Some(i), Some((bx, by, bw, bh))) = (i_cams, g.cams) {
        let _ = writeln!(
            fg,
            "[{i}:v]fps={fps},scale={bw}:{bh}:force_original_aspect_ratio=decrease:flags=fast_bilinear,scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p[cam];"
        );
        let _ = writeln!(
            fg,
            "[{last}][cam]overlay=x={bx}+({bw}-w)/2:y={by}:eof_action=repeat[v2];"
        );
        last = "v2".into();
    }
    if let (Some(i), Some((cx, cy, _, _))) = (i_chat, g.chat) {
        let _ = writeln!(fg, "[{i}:v]format=yuv420p[chat];");
        let _ = writeln!(
            fg,
            "[{last}][chat]overlay=x={cx}:y={cy}:eof_action=repeat[v3];"
        );
        last = "v3".into();
    }
    let _ = write!(fg, "[{last}]null[vout]");
    let script = inp.work.join("filter.txt");
    std::fs::write(&script, &fg)?;
    args.extend([
        "-filter_complex_script".into(),
        script.to_string_lossy().into_owned(),
    ]);
    args.extend(["-map".into(), "[vout]".into()]);
    let audio_from = i_cams.or(i_audio);
    if let Some(i) = audio_from {
        args.extend(["-map".into(), format!("{i}:a:0?")]);
        args.extend(["-c:a", "aac", "-b:a", "128k", "-ac", "2"].map(String::from));
    }
    for (j, (i, (locale, _))) in i_caps.iter().zip(&inp.captions).enumerate() {
        args.extend(["-map".into(), format!("{i}:s:0")]);
        args.extend([
            format!("-metadata:s:s:{j}"),
            format!("language={}", lang3(locale)),
        ]);
        args.extend([format!("-metadata:s:s:{j}"), format!("title={locale}")]);
    }
    if !i_caps.is_empty() {
        args.extend(["-c:s".into(), "mov_text".into()]);
    }
    if let Some(i) = i_chap {
        args.extend(["-map_chapters".into(), i.to_string()]);
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            &opts.preset,
            "-crf",
            &opts.crf.to_string(),
            "-pix_fmt",
            "yuv420p",
            "-r",
            &fps.to_string(),
            "-t",
            &format!("{:.3}", inp.duration),
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ]
        .map(String::from),
    );
    args.push(out.to_string_lossy().into_owned());
    log::debug!("ffmpeg {}", args.join(" "));
    let res = Command::new(&opts.ffmpeg)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", opts.ffmpeg.display()))?;
    if !res.status.success() {
        let err = String::from_utf8_lossy(&res.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("ffmpeg failed ({}): {}", res.status, tail.join(" | "));
    }
    Ok(())
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

    #[test]
    fn close_share_intervals_share_one_input() {
        let g = group_intervals(&[(50.0, 60.0), (10.0, 20.0), (22.0, 30.0)], 5.0);
        assert_eq!(
            g,
            vec![vec![(10.0, 20.0), (22.0, 30.0)], vec![(50.0, 60.0)]]
        );
    }

    #[test]
    fn bbb_layout_puts_webcams_in_a_right_column() {
        let g = Geometry::new(&RenderOptions::default(), true);
        assert_eq!(g.area, (0, 0, 960, 720));
        assert_eq!(g.cams, Some((960, 0, 320, 720)));
    }
}
