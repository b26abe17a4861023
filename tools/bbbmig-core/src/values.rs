//! Value parsers of command-line options that clap's own types do not express.

use std::str::FromStr;

/// A count or a duration that means nothing at 0 (`--jobs`, `--timeout`, `--batch`…):
/// refuses 0 with "must be at least 1" instead of letting a run do nothing or spin.
pub fn at_least_one<T>(s: &str) -> Result<T, String>
where
    T: FromStr + PartialEq + From<u8>,
    T::Err: std::fmt::Display,
{
    let n: T = s.trim().parse().map_err(|e| format!("{e}"))?;
    if n == T::from(0) {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused_other_numbers_pass() {
        assert_eq!(at_least_one::<u64>("3"), Ok(3));
        assert_eq!(at_least_one::<usize>("1"), Ok(1));
        assert_eq!(
            at_least_one::<u32>("0"),
            Err("must be at least 1".to_string())
        );
        assert!(at_least_one::<u64>("-1").is_err());
        assert!(at_least_one::<u64>("many").is_err());
    }
}
