//! Reproducible train/validation/test assignment from a stable hash of each row:
//! the same row always lands in the same split, whatever else is in the file.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// Percentages of rows per split; they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitRatios {
    pub train: u32,
    pub validation: u32,
    pub test: u32,
}

impl Default for SplitRatios {
    fn default() -> Self {
        SplitRatios {
            train: 80,
            validation: 10,
            test: 10,
        }
    }
}

impl SplitRatios {
    pub fn percent(&self, split: Split) -> u32 {
        match split {
            Split::Train => self.train,
            Split::Validation => self.validation,
            Split::Test => self.test,
        }
    }
}

impl FromStr for SplitRatios {
    type Err = String;

    /// `train/validation/test` in whole percent, e.g. `80/10/10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').map(str::trim).collect();
        let bad = || {
            format!("invalid split {s:?}: expected train/validation/test percentages adding up to 100, e.g. 80/10/10")
        };
        let [train, validation, test] = parts.as_slice() else {
            return Err(bad());
        };
        let p = |v: &str| v.parse::<u32>().map_err(|_| bad());
        let ratios = SplitRatios {
            train: p(train)?,
            validation: p(validation)?,
            test: p(test)?,
        };
        if ratios.train + ratios.validation + ratios.test != 100 || ratios.train == 0 {
            return Err(bad());
        }
        Ok(ratios)
    }
}

impl fmt::Display for SplitRatios {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.train, self.validation, self.test)
    }
}

/// The split of a row with this hash.
pub fn assign(row_hash: u64, ratios: &SplitRatios) -> Split {
    let bucket = (row_hash % 100) as u32;
    if bucket < ratios.train {
        Split::Train
    } else if bucket < ratios.train + ratios.validation {
        Split::Validation
    } else {
        Split::Test
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates_ratios() {
        assert_eq!(
            "70/20/10".parse::<SplitRatios>().unwrap(),
            SplitRatios {
                train: 70,
                validation: 20,
                test: 10
            }
        );
        assert!("80/10".parse::<SplitRatios>().is_err());
        assert!("80/10/20".parse::<SplitRatios>().is_err());
        assert!("a/b/c".parse::<SplitRatios>().is_err());
        assert!("0/50/50".parse::<SplitRatios>().is_err());
    }

    #[test]
    fn buckets_follow_the_ratios() {
        let r = SplitRatios::default();
        assert_eq!(assign(0, &r), Split::Train);
        assert_eq!(assign(79, &r), Split::Train);
        assert_eq!(assign(80, &r), Split::Validation);
        assert_eq!(assign(90, &r), Split::Test);
        assert_eq!(assign(199, &r), Split::Test);
    }
}
