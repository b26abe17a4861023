//! Starting the BBB stand-in (`bbb-standin`) on a free loopback port for one test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The shared secret the stand-in uses by default.
pub const SECRET: &str = "standin-secret";

/// A running stand-in; killed when dropped.
pub struct StandIn {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl StandIn {
    /// Starts `bbb-standin` with these arguments and waits for its address.
    pub fn start(args: &[&str]) -> StandIn {
        let mut child = Command::new(crate::bin("bbb-standin"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start bbb-standin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("bbb-standin said {line:?}"))
            .to_string();
        StandIn { child, url }
    }

    /// The queries the stand-in received (without checksums), one per request.
    pub fn log(&self) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-s", &format!("{}/standin/log", self.url)])
            .output();
        match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(String::from)
                .collect(),
            _ => {
                // No curl: a plain HTTP/1.0 request.
                use std::io::{Read, Write};
                let addr = self.url.trim_start_matches("http://");
                let mut s = std::net::TcpStream::connect(addr).expect("connect");
                write!(s, "GET /standin/log HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
                let mut body = String::new();
                s.read_to_string(&mut body).expect("read");
                body.split("\r\n\r\n")
                    .nth(1)
                    .unwrap_or("")
                    .lines()
                    .map(String::from)
                    .collect()
            }
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
