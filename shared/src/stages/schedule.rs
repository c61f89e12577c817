//! When a non-prod stage is awake: `active: { days, hours, timezone }`.
//! Outside its window promote-model deletes the stage's endpoint (keeping its
//! desired-state record and endpoint config) and recreates it when the window
//! opens; predict answers `not_serving` with the wake time; the traffic
//! monitor skips the stage. The window is read in the stage's own time zone
//! (an IANA name, daylight saving included).
//!
//! The window itself (time zones, [`Window`]) is feature `schedule`: the
//! functions that act on it (promote-model, predict, the monitor) check it
//! fully at cold start; start-pipeline reads the stages file without it.

#[cfg(feature = "schedule")]
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
#[cfg(feature = "schedule")]
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The days and hours a stage serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Active {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`, start before end, in `timezone`.
    pub hours: String,
    /// An IANA time zone (`UTC`, `Europe/Berlin`).
    pub timezone: String,
}

/// A validated window.
#[cfg(feature = "schedule")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    days: [bool; 7],
    start: NaiveTime,
    end: NaiveTime,
    tz: Tz,
}

#[cfg(feature = "schedule")]
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[cfg(feature = "schedule")]
impl Active {
    /// The window, or every problem with it (each as `field: what`).
    pub fn window(&self) -> Result<Window, Vec<String>> {
        let mut problems = Vec::new();
        let mut days = [false; 7];
        if self.days.is_empty() {
            problems.push("active.days: at least one day (mon-sun)".to_string());
        }
        for day in &self.days {
            match DAYS.iter().position(|d| d.eq_ignore_ascii_case(day)) {
                Some(i) => days[i] = true,
                None => problems.push(format!(
                    "active.days: {day:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"
                )),
            }
        }
        let hours = self.hours.split_once('-').and_then(|(start, end)| {
            let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
            Some((time(start)?, time(end)?))
        });
        let (start, end) = match hours {
            Some((start, end)) if start < end => (start, end),
            Some(_) => {
                problems.push(format!(
                    "active.hours: {:?} must start before it ends (one window within a day)",
                    self.hours
                ));
                (NaiveTime::MIN, NaiveTime::MIN)
            }
            None => {
                problems.push(format!("active.hours: {:?} is not HH:MM-HH:MM", self.hours));
                (NaiveTime::MIN, NaiveTime::MIN)
            }
        };
        let tz = self.timezone.parse::<Tz>().unwrap_or_else(|_| {
            problems.push(format!(
                "active.timezone: {:?} is not an IANA time zone (UTC, Europe/Berlin, ...)",
                self.timezone
            ));
            Tz::UTC
        });
        if problems.is_empty() {
            Ok(Window {
                days,
                start,
                end,
                tz,
            })
        } else {
            Err(problems)
        }
    }
}

/// How a wake time is written wherever it is told (promote-model's `asleep`,
/// predict's `wakes_at`, the monitor's): RFC 3339, UTC, whole seconds.
#[cfg(feature = "schedule")]
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(feature = "schedule")]
impl super::Stage {
    /// The stage's window (validated at cold start), `None` when it never sleeps.
    pub fn window(&self) -> Option<Window> {
        self.active.as_ref().and_then(|a| a.window().ok())
    }

    /// When the stage wakes, if it is asleep at `now`.
    pub fn asleep_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let window = self.window()?;
        (!window.is_awake(now)).then(|| window.next_wake(now))
    }
}

#[cfg(feature = "schedule")]
impl Window {
    fn on(&self, day: Weekday) -> bool {
        self.days[day.num_days_from_monday() as usize]
    }

    /// Whether the stage serves at `now`.
    pub fn is_awake(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz);
        let time = local.time();
        self.on(local.weekday()) && self.start <= time && time < self.end
    }

    /// The next time the window opens after `now` (`now` itself when it opens
    /// exactly then). A start that does not exist that day (a daylight-saving
    /// gap) opens at the first valid minute after it.
    pub fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.tz).date_naive();
        (0..=8)
            .map(|d| today + Duration::days(d))
            .filter(|date| self.on(date.weekday()))
            .filter_map(|date| {
                let start = date.and_time(self.start);
                // In a gap, the first valid minute after the start.
                (0..=120).find_map(|m| {
                    self.tz
                        .from_local_datetime(&(start + Duration::minutes(m)))
                        .earliest()
                })
            })
            .map(|local| local.with_timezone(&Utc))
            .find(|wake| *wake >= now)
            .unwrap_or(now)
    }

    /// Hours awake in a week (for the cost of a sleeping stage).
    pub fn hours_a_week(&self) -> f64 {
        let daily = (self.end - self.start).num_minutes() as f64 / 60.0;
        daily * self.days.iter().filter(|d| **d).count() as f64
    }
}

impl fmt::Display for Active {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.days.join(","),
            self.hours,
            self.timezone
        )
    }
}

#[cfg(all(test, feature = "schedule"))]
mod tests {
    use super::*;

    fn active(days: &[&str], hours: &str, timezone: &str) -> Active {
        Active {
            days: days.iter().map(|d| d.to_string()).collect(),
            hours: hours.into(),
            timezone: timezone.into(),
        }
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_working_week_in_berlin_follows_daylight_saving() {
        let w = active(
            &["mon", "tue", "wed", "thu", "fri"],
            "08:00-20:00",
            "Europe/Berlin",
        )
        .window()
        .unwrap();
        // Friday 2026-12-04, winter (UTC+1): 07:30 UTC is 08:30 in Berlin.
        assert!(w.is_awake(at("2026-12-04T07:30:00Z")));
        assert!(!w.is_awake(at("2026-12-04T06:59:00Z")));
        assert!(!w.is_awake(at("2026-12-04T19:00:00Z")), "20:00 closes it");
        // Saturday: asleep all day; it wakes Monday 08:00 Berlin.
        assert!(!w.is_awake(at("2026-12-05T12:00:00Z")));
        assert_eq!(
            w.next_wake(at("2026-12-05T12:00:00Z")),
            at("2026-12-07T07:00:00Z")
        );
        // Summer (UTC+2): the same 08:00 is 06:00 UTC.
        assert_eq!(
            w.next_wake(at("2026-06-06T12:00:00Z")),
            at("2026-06-08T06:00:00Z")
        );
        // Awake now: the next opening is the next working day.
        assert_eq!(
            w.next_wake(at("2026-12-04T10:00:00Z")),
            at("2026-12-07T07:00:00Z")
        );
        assert_eq!(w.hours_a_week(), 60.0);
    }

    #[test]
    fn a_start_in_the_spring_gap_opens_at_the_first_valid_minute() {
        // 2026-03-08: New York skips 02:00-03:00.
        let w = active(&["sun"], "02:30-04:00", "America/New_York")
            .window()
            .unwrap();
        assert_eq!(
            w.next_wake(at("2026-03-07T12:00:00Z")),
            at("2026-03-08T07:00:00Z")
        );
    }

    #[test]
    fn every_problem_is_named() {
        let problems = active(&["monday", "fri"], "20:00-08:00", "Mars/Olympus")
            .window()
            .unwrap_err()
            .join("; ");
        for expected in [
            "active.days: \"monday\" is not a day",
            "active.hours: \"20:00-08:00\" must start before it ends",
            "active.timezone: \"Mars/Olympus\" is not an IANA time zone",
        ] {
            assert!(problems.contains(expected), "{expected:?} in {problems}");
        }
        let problems = active(&[], "8-20", "UTC").window().unwrap_err().join("; ");
        assert!(
            problems.contains("active.days: at least one day"),
            "{problems}"
        );
        assert!(
            problems.contains("active.hours: \"8-20\" is not HH:MM-HH:MM"),
            "{problems}"
        );
    }
}
