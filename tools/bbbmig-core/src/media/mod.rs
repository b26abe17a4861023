//! Turning recordings into local video files: planning, naming, download, probe,
//! bbb-recorder, the HTTP source of the renderer, and the parallel job runner.

pub mod download;
pub mod jobs;
pub mod lease;
pub mod naming;
pub mod output;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod recorder;
pub mod render_args;
pub mod safe_fs;
pub mod source;
pub mod work;

/// How a video is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Method {
    /// The `video` format when the recording has one, else the presentation rendered
    /// (natively, or by bbb-recorder with `--prefer bbb-recorder`).
    #[default]
    Auto,
    /// Download the `video` format (playback page, direct media URL, Scalelite token).
    Download,
    /// Render the presentation natively from its published files.
    Render,
    /// Play the presentation with the external bbb-recorder plugin.
    BbbRecorder,
}

impl Method {
    /// The name written in `video.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Download => "download",
            Method::Render => "render",
            Method::BbbRecorder => "bbb-recorder",
        }
    }
}

/// Which renderer `--method auto` uses for a presentation without a video format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Prefer {
    /// The native renderer.
    #[default]
    Native,
    /// The external bbb-recorder plugin (needs `--bbb-recorder DIR`).
    BbbRecorder,
}
