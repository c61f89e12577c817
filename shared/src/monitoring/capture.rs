//! An endpoint's data capture as the monitor reads it: which keys are capture
//! files, which of them one run takes (its window), and what the monitor
//! remembers between runs (`monitoring/<endpoint>/state.json`).
//!
//! SageMaker writes `<prefix>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<file>.jsonl`.
//! Files of one hour arrive out of key order (several instances upload, each
//! when its buffer fills), so a single "last key read" would skip every file
//! that lands behind it. The state keeps instead the set of files already
//! considered in the last [`LOOKBACK_HOURS`] hours of each variant, and every
//! run lists each variant from that horizon on: a file that lands up to that
//! late is still read, once.
//!
//! A run takes at most [`MAX_PENDING_FILES`] pending files (oldest hours
//! first: the rest wait, and the age of the oldest is emitted), reads at most
//! `MAX_CAPTURE_FILES` of them (evenly spaced when there are more, so the
//! window samples its whole period), and moves past all it took. Before it
//! publishes anything the window is recorded as in flight, so a run that
//! crashed after publishing redoes the same window, finds its report, and
//! publishes nothing twice.

use aws_smithy_types::date_time::{DateTime, Format};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Pending capture files one run takes per stage at most (read or sampled out).
pub const MAX_PENDING_FILES: usize = 5000;
/// Bytes read of one capture file at most: the rest of a larger file is left out.
pub const MAX_CAPTURE_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// How late (behind the newest file of its variant) a capture file may land and still be read.
pub const LOOKBACK_HOURS: i64 = 2;

/// What the monitor remembers of one endpoint's capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureState {
    /// Capture files already taken by a run, from each variant's horizon on.
    pub considered: BTreeSet<String>,
    /// The window a run recorded before comparing and publishing, and has not
    /// finished: the next run redoes exactly it.
    pub in_flight: Option<Window>,
}

/// The capture files one run takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Named from its files: its report is `reports/<id>.json`.
    pub id: String,
    /// The files read, in time order.
    pub read: Vec<String>,
    /// Every file the window takes (read, or sampled out), in time order.
    pub taken: Vec<String>,
}

/// A capture file's key, split: the variant's folder (`<prefix><variant>/`)
/// and the hour (`yyyy/mm/dd/hh`). `None` for a key SageMaker would not write.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    let mut parts = key.rsplitn(6, '/');
    let (file, hour, day, month, year) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let folder_end = parts.next()?.len() + 1;
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && digits(hour, 2)
        && file.len() > ".jsonl".len()
        && file.ends_with(".jsonl")
        && folder_end > 1;
    well_formed.then(|| (&key[..folder_end], &key[folder_end..folder_end + 13]))
}

/// The first second of `hour` (`yyyy/mm/dd/hh`); `None` if it is not a date.
pub fn hour_start(hour: &str) -> Option<DateTime> {
    let text = format!(
        "{}:00:00Z",
        hour.replacen('/', "-", 2).replacen('/', "T", 1)
    );
    DateTime::from_str(&text, Format::DateTime).ok()
}

/// `hour` (`yyyy/mm/dd/hh`) moved by `hours`; `None` if it is not a date.
pub fn shift_hour(hour: &str, hours: i64) -> Option<String> {
    let at = hour_start(hour)?;
    Some(hour_of(DateTime::from_secs(at.secs() + hours * 3600)))
}

/// The hour (`yyyy/mm/dd/hh`, UTC) of a time.
pub fn hour_of(at: DateTime) -> String {
    let text = at.fmt(Format::DateTime).unwrap_or_default();
    // "2026-12-04T17:51:00Z" -> "2026/12/04/17"
    text.get(..13).unwrap_or_default().replace(['-', 'T'], "/")
}

impl CaptureState {
    /// Where a run lists `folder` (a variant's) from: the horizon hour,
    /// [`LOOKBACK_HOURS`] before the newest file taken there (`None`: from the start).
    pub fn start_after(&self, folder: &str) -> Option<String> {
        let horizon = self.horizons().remove(folder)?;
        Some(format!("{folder}{horizon}/"))
    }

    /// Each variant folder's horizon: the hour [`LOOKBACK_HOURS`] before the
    /// newest file taken there.
    fn horizons(&self) -> BTreeMap<String, String> {
        let mut newest: BTreeMap<&str, &str> = BTreeMap::new();
        for (folder, hour) in self.considered.iter().filter_map(|k| split_key(k)) {
            let entry = newest.entry(folder).or_insert(hour);
            *entry = (*entry).max(hour);
        }
        newest
            .into_iter()
            .filter_map(|(folder, hour)| {
                Some((folder.to_string(), shift_hour(hour, -LOOKBACK_HOURS)?))
            })
            .collect()
    }

    /// The window taken: its files are considered, nothing is in flight, and
    /// files behind their variant's horizon are forgotten.
    pub fn commit(&mut self, window: &Window) {
        self.considered.extend(window.taken.iter().cloned());
        self.in_flight = None;
        let horizons = self.horizons();
        self.considered.retain(|k| {
            split_key(k).is_some_and(|(folder, hour)| {
                horizons
                    .get(folder)
                    .is_some_and(|horizon| hour >= horizon.as_str())
            })
        });
    }
}

/// The window of `pending` (capture files not yet taken, in time order): all
/// of them, reading at most `max_read` evenly spaced ones.
pub fn window(pending: Vec<String>, max_read: usize) -> Window {
    let read: Vec<String> = if pending.len() <= max_read {
        pending.clone()
    } else {
        (0..max_read)
            .map(|i| pending[i * pending.len() / max_read].clone())
            .collect()
    };
    let id = crate::dataset::sha256_hex(pending.join("\n").as_bytes())[..16].to_string();
    Window {
        id,
        read,
        taken: pending,
    }
}

/// A deterministic uniform sample of at most `cap` rows of a stream: each row
/// gets a pseudo-random priority from the window and its position, and the
/// `cap` lowest are kept (bottom-k sampling). The same window gives the same
/// sample, so a redone window gives the same report.
pub struct Sample<T> {
    cap: usize,
    seed: u64,
    heap: std::collections::BinaryHeap<Ranked<T>>,
    pub seen: u64,
}

pub struct Ranked<T>(u64, T);

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<T> Eq for Ranked<T> {}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of a 64-bit value.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<T> Sample<T> {
    pub fn new(cap: usize, window: &Window) -> Self {
        let seed = u64::from_str_radix(window.id.get(..16).unwrap_or("0"), 16).unwrap_or(0);
        Sample {
            cap,
            seed,
            heap: std::collections::BinaryHeap::with_capacity(cap + 1),
            seen: 0,
        }
    }

    /// Offers the `row`-th row of the `file`-th file read.
    pub fn offer(&mut self, file: usize, row: u64, value: T) {
        self.seen += 1;
        let priority = mix(self.seed ^ mix(((file as u64) << 40) ^ row));
        if self.heap.len() < self.cap {
            self.heap.push(Ranked(priority, value));
        } else if self.heap.peek().is_some_and(|top| priority < top.0) {
            self.heap.pop();
            self.heap.push(Ranked(priority, value));
        }
    }

    pub fn into_rows(self) -> Vec<T> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "capture/housing-mlops-dev/AllTraffic/";

    #[test]
    fn keys_split_as_sagemaker_writes_them() {
        assert_eq!(
            split_key(&format!("{P}2026/12/04/17/51-00-000-abc.jsonl")),
            Some((P, "2026/12/04/17"))
        );
        for bad in [
            "zz-test.jsonl",
            "capture/e/AllTraffic/2026/12/4/17/x.jsonl",
            "capture/e/AllTraffic/2026/12/04/17/x.json",
            "capture/e/AllTraffic/2026/12/04/17/.jsonl",
            "capture/e/AllTraffic/2026/12/04/17/sub/x.jsonl",
            "2026/12/04/17/x.jsonl",
        ] {
            assert_eq!(split_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn hours_shift_across_days_and_years() {
        assert_eq!(shift_hour("2027/01/01/01", -2).unwrap(), "2026/12/31/23");
        assert_eq!(shift_hour("2026/12/04/17", 1).unwrap(), "2026/12/04/18");
        assert_eq!(shift_hour("2026/13/04/17", 1), None);
    }

    #[test]
    fn a_variant_is_listed_from_its_horizon_and_older_files_are_forgotten() {
        let key = |hour: &str, f: &str| format!("{P}{hour}/{f}.jsonl");
        let mut state = CaptureState::default();
        assert_eq!(state.start_after(P), None);
        let first = window(
            vec![key("2026/12/04/09", "a"), key("2026/12/04/10", "b")],
            10,
        );
        state.in_flight = Some(first.clone());
        state.commit(&first);
        assert_eq!(state.in_flight, None);
        assert_eq!(state.start_after(P).unwrap(), format!("{P}2026/12/04/08/"));
        let later = window(vec![key("2026/12/04/12", "c")], 10);
        state.commit(&later);
        // The 09 file is behind 12's horizon (10): forgotten; 10's is kept.
        assert_eq!(
            state.considered.iter().cloned().collect::<Vec<_>>(),
            [key("2026/12/04/10", "b"), key("2026/12/04/12", "c")]
        );
        assert_eq!(state.start_after(P).unwrap(), format!("{P}2026/12/04/10/"));
        // Another variant has a horizon of its own.
        assert_eq!(state.start_after("capture/housing-mlops-dev/Other/"), None);
    }

    #[test]
    fn a_window_reads_evenly_spaced_files_when_there_are_too_many() {
        let pending: Vec<String> = (0..10).map(|i| format!("{i}")).collect();
        let all = window(pending.clone(), 10);
        assert_eq!(all.read, pending);
        let some = window(pending.clone(), 4);
        assert_eq!(some.read, ["0", "2", "5", "7"]);
        assert_eq!(some.taken, pending);
        assert_eq!(some.id, all.id);
        assert_ne!(window(pending[1..].to_vec(), 4).id, all.id);
    }

    #[test]
    fn the_sample_keeps_every_row_under_its_cap_and_a_spread_over_it() {
        let w = window(vec!["x".into()], 1);
        let mut small = Sample::new(10, &w);
        (0..5).for_each(|i| small.offer(0, i, i));
        let mut kept = small.into_rows();
        kept.sort();
        assert_eq!(kept, [0, 1, 2, 3, 4]);

        // 10 files of 1,000 rows, 1,000 kept: each file contributes, none dominates
        // (the tail of the stream is sampled like its head).
        let sample = |cap| {
            let mut s = Sample::new(cap, &w);
            for file in 0..10 {
                (0..1000).for_each(|row| s.offer(file, row, file));
            }
            assert_eq!(s.seen, 10_000);
            s.into_rows()
        };
        let rows = sample(1000);
        assert_eq!(rows.len(), 1000);
        for file in 0..10 {
            let n = rows.iter().filter(|f| **f == file).count();
            assert!((60..=140).contains(&n), "file {file}: {n} rows");
        }
        assert_eq!(rows, sample(1000), "the same window samples the same rows");
    }
}
