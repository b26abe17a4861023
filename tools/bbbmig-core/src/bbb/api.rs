//! The BBB API endpoint: base URL forms, checksums (SHA-1/256/384/512), signed call URLs.

use crate::secret::Secret;
use anyhow::{Context, bail};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::Url;

/// Checksum algorithm; BBB picks the one to verify by the checksum's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Checksum {
    /// 40 hex digits; every BBB and Scalelite accepts it (the only one before BBB 2.5).
    Sha1,
    /// 64 hex digits; the default of BBB and Scalelite.
    Sha256,
    /// 96 hex digits; BBB ≥ 2.5 only (Scalelite refuses it).
    Sha384,
    /// 128 hex digits; BBB ≥ 2.5 and Scalelite.
    Sha512,
}

impl Checksum {
    /// The algorithm BBB would pick for a checksum of this length.
    pub fn from_len(len: usize) -> Option<Checksum> {
        match len {
            40 => Some(Checksum::Sha1),
            64 => Some(Checksum::Sha256),
            96 => Some(Checksum::Sha384),
            128 => Some(Checksum::Sha512),
            _ => None,
        }
    }

    /// Lower-case hex of H(call + query + secret).
    pub fn compute(self, call: &str, query: &str, secret: &str) -> String {
        let data = [call.as_bytes(), query.as_bytes(), secret.as_bytes()].concat();
        match self {
            Checksum::Sha1 => hex::encode(Sha1::digest(&data)),
            Checksum::Sha256 => hex::encode(Sha256::digest(&data)),
            Checksum::Sha384 => hex::encode(Sha384::digest(&data)),
            Checksum::Sha512 => hex::encode(Sha512::digest(&data)),
        }
    }
}

/// A BBB or Scalelite API endpoint with its secret.
#[derive(Debug, Clone)]
pub struct Api {
    base: Url,
    secret: Secret,
    checksum: Checksum,
}

impl Api {
    /// Builds an endpoint from any of the usual base URL forms.
    pub fn new(base: &str, secret: Secret, checksum: Checksum) -> anyhow::Result<Api> {
        Ok(Api {
            base: normalize_base(base)?,
            secret,
            checksum,
        })
    }

    /// The normalized base, ending in `/bigbluebutton/api/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The signed URL of `call` with these parameters, encoded once and hashed as sent.
    pub fn url(&self, call: &str, params: &[(&str, &str)]) -> Url {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let sum = self.checksum.compute(call, &query, self.secret.expose());
        let mut u = self
            .base
            .join(call)
            .expect("a call name is a valid relative URL");
        let full = if query.is_empty() {
            format!("checksum={sum}")
        } else {
            format!("{query}&checksum={sum}")
        };
        u.set_query(Some(&full));
        u
    }
}

/// Accepts `https://host`, `https://host/bigbluebutton/` or `https://host/bigbluebutton/api/`
/// (with or without the last slash) and returns `https://host/bigbluebutton/api/`.
pub fn normalize_base(s: &str) -> anyhow::Result<Url> {
    let shown = crate::http::shown_url(s);
    let s = s.trim();
    let mut u = Url::parse(s).with_context(|| {
        format!("bad BBB URL {shown:?}: expected https://host/bigbluebutton/api/")
    })?;
    if u.scheme() != "https" && u.scheme() != "http" {
        bail!("bad BBB URL {shown:?}: the scheme must be https or http");
    }
    if u.host_str().is_none_or(str::is_empty) {
        bail!("bad BBB URL {shown:?}: no host");
    }
    if u.query().is_some() || u.fragment().is_some() {
        bail!("bad BBB URL {shown:?}: give the API base without a query (no ?checksum=…)");
    }
    let path = u.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/bigbluebutton/api") {
        path
    } else if path.ends_with("/bigbluebutton") {
        format!("{path}/api")
    } else {
        format!("{path}/bigbluebutton/api")
    };
    u.set_path(&format!("{path}/"));
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::redact;

    const DOC: &str = "createname=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444639259d4-9dd8-4b25-bf01-95f9567eaf4b";
    const SECRET: &str = "639259d4-9dd8-4b25-bf01-95f9567eaf4b";

    #[test]
    fn checksum_test_vectors_of_the_bbb_docs() {
        let data = DOC.strip_suffix(SECRET).unwrap();
        let (call, query) = data.split_at("create".len());
        assert_eq!(
            Checksum::Sha1.compute(call, query, SECRET),
            "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
        );
        assert_eq!(
            Checksum::Sha256.compute(call, query, SECRET),
            "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e"
        );
        assert_eq!(
            Checksum::Sha384.compute(call, query, SECRET),
            "891ac633df39d0a1b4f8d597f3e190833216c4b29c4fb51ea3ca72757eeb958d6e7b49a845cf29f5c6019c7d29d029d1"
        );
        assert_eq!(
            Checksum::Sha512.compute(call, query, SECRET),
            "de73ad61d11a5c801b68d4bd6ec5248546085cefb0b25c85f3c46249ea93a3a4b120f92c0a8a58d7512cb77821884951a3b01245f3435dbbef49fff3cc3988b4"
        );
        assert_eq!(
            Checksum::Sha1.compute("getRecordings", "", SECRET),
            "2d8ec9f1d49ac91a5068c0914bb414a9d83142c6"
        );
        let q = "meetingID=CS101&state=published&offset=0&limit=100";
        assert_eq!(
            Checksum::Sha1.compute("getRecordings", q, SECRET),
            "fd01bd3681043c447e290174d98a05590f31b9b8"
        );
        assert_eq!(
            Checksum::Sha256.compute("getRecordings", q, SECRET),
            "da008f2efcdcb8024aeb2ee515371495d229996b5700370c7f12cf0b0c5d2944"
        );
    }

    #[test]
    fn every_base_form_gives_the_api_base() {
        for s in [
            "https://bbb.example.org",
            "https://bbb.example.org/",
            "https://bbb.example.org/bigbluebutton",
            "https://bbb.example.org/bigbluebutton/",
            "https://bbb.example.org/bigbluebutton/api",
            " https://bbb.example.org/bigbluebutton/api/ ",
        ] {
            assert_eq!(
                normalize_base(s).unwrap().as_str(),
                "https://bbb.example.org/bigbluebutton/api/",
                "{s}"
            );
        }
        assert!(normalize_base("bbb.example.org").is_err());
        assert!(normalize_base("ftp://bbb.example.org/").is_err());
        assert!(
            normalize_base("https://bbb.example.org/bigbluebutton/api/getRecordings?checksum=1")
                .is_err()
        );
    }

    #[test]
    fn signed_url_hashes_the_query_as_sent() {
        let api = Api::new("https://h/", Secret::new(SECRET), Checksum::Sha1).unwrap();
        let u = api.url(
            "getRecordings",
            &[
                ("meetingID", "CS101"),
                ("state", "published"),
                ("offset", "0"),
                ("limit", "100"),
            ],
        );
        assert_eq!(
            u.as_str(),
            "https://h/bigbluebutton/api/getRecordings?meetingID=CS101&state=published&offset=0&limit=100&checksum=fd01bd3681043c447e290174d98a05590f31b9b8"
        );
        let empty = api.url("getRecordings", &[]);
        assert!(
            empty
                .as_str()
                .ends_with("getRecordings?checksum=2d8ec9f1d49ac91a5068c0914bb414a9d83142c6")
        );
        assert!(!format!("{api:?}").contains(SECRET));
        assert_eq!(
            redact(&u),
            "https://h/bigbluebutton/api/getRecordings?meetingID=CS101&state=published&offset=0&limit=100"
        );
    }
}
