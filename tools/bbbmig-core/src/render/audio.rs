//! The sound track of a render: copied as it is when the recording's is already AAC in one
//! or two channels (webcams.mp4), else encoded to AAC (Opus or Vorbis in webcams.webm).

use std::path::Path;
use std::process::{Command, Stdio};

/// What the render does with the recording's first sound stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    /// AAC in one or two channels: copied, no decode nor encode (an hour costs 0.1 s, not 7).
    Copy,
    /// Anything else, or unknown: encoded to AAC 128 kbit/s, mono kept mono.
    Encode,
}

/// Looks at the first sound stream of `src` as `ffmpeg -i` lists it. Anything it cannot
/// read is encoded, as it always was: a copy is only an optimisation.
pub fn sound_of(ffmpeg: &Path, src: &Path) -> Sound {
    // Waited for by this thread: it dies with it if the tool is killed (orphan).
    let out = crate::orphan::die_with_parent(&mut Command::new(ffmpeg))
        .args(["-nostdin", "-hide_banner", "-i"])
        .arg(src)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) => sound_in_listing(&String::from_utf8_lossy(&o.stderr)),
        Err(_) => Sound::Encode,
    }
}

/// The decision from ffmpeg's listing of the input's streams, e.g.
/// `Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 64 kb/s`.
pub fn sound_in_listing(listing: &str) -> Sound {
    let Some(line) = listing
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("Stream #0:"))
        .find_map(|l| l.split_once(": Audio: ").map(|(_, a)| a))
    else {
        return Sound::Encode;
    };
    let mut fields = line.split(", ");
    let codec = fields.next().unwrap_or("");
    let aac = codec == "aac" || codec.starts_with("aac ");
    // The third field is the channel layout ("mono", "stereo", "5.1(side)", "2 channels").
    let channels = fields.nth(1).unwrap_or("");
    if aac && matches!(channels, "mono" | "stereo" | "1 channels" | "2 channels") {
        Sound::Copy
    } else {
        Sound::Encode
    }
}

/// The output options that make the sound of `duration` seconds.
pub fn sound_args(sound: Sound, duration: f64) -> Vec<String> {
    let mut args: Vec<String> = ["-map", "0:a:0", "-vn", "-sn", "-dn"]
        .map(String::from)
        .to_vec();
    match sound {
        Sound::Copy => args.extend(["-c:a", "copy"].map(String::from)),
        Sound::Encode => args.extend(
            [
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                // Mono stays mono (BBB records mono); more channels become stereo.
                "-af",
                "aformat=channel_layouts=mono|stereo",
            ]
            .map(String::from),
        ),
    }
    args.extend(["-t".into(), format!("{duration:.3}")]);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_in_one_or_two_channels_is_copied() {
        let mp4 = "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'webcams.mp4':\n  Duration: 00:10:00.00\n  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 640x480, 2 kb/s, 15 fps\n  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 2 kb/s (default)\n";
        assert_eq!(sound_in_listing(mp4), Sound::Copy);
        let stereo = "  Stream #0:1(eng): Audio: aac (HE-AAC), 44100 Hz, stereo, fltp";
        assert_eq!(sound_in_listing(stereo), Sound::Copy);
    }

    #[test]
    fn other_codecs_more_channels_or_no_sound_are_encoded() {
        for listing in [
            "  Stream #0:1: Audio: opus, 48000 Hz, mono, fltp (default)",
            "  Stream #0:1: Audio: vorbis, 48000 Hz, stereo, fltp",
            "  Stream #0:1: Audio: aac (LC), 48000 Hz, 5.1, fltp",
            "  Stream #0:0: Video: vp8, yuv420p, 640x480, 15 fps",
            "",
            "webcams.mp4: Invalid data found when processing input",
        ] {
            assert_eq!(sound_in_listing(listing), Sound::Encode, "{listing}");
        }
    }

    #[test]
    fn the_first_sound_stream_decides() {
        let two = "  Stream #0:1: Audio: opus, 48000 Hz, mono, fltp\n  Stream #0:2: Audio: aac (LC), 48000 Hz, mono, fltp";
        assert_eq!(sound_in_listing(two), Sound::Encode);
    }

    #[test]
    fn a_copy_neither_filters_nor_encodes() {
        let a = sound_args(Sound::Copy, 600.0).join(" ");
        assert!(a.contains("-c:a copy") && !a.contains("-af"), "{a}");
        assert!(a.ends_with("-t 600.000"), "{a}");
        let e = sound_args(Sound::Encode, 1.5).join(" ");
        assert!(e.contains("-c:a aac -b:a 128k -af aformat"), "{e}");
    }
}
