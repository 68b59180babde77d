//! Reproducible builds: one timestamp and one host name for everything.
//!
//! rpm stamps headers with a build time and host and file mtimes; Kbuild
//! stamps `UTS_VERSION` with date, user and host. Pinning all of them to
//! `SOURCE_DATE_EPOCH` (rpm ≥ 4.14 honours it when
//! `use_source_date_epoch_as_buildtime` and `clamp_mtime_to_source_date_epoch`
//! are set) makes two builds of the same input byte-identical.

/// The pinned values of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reproducibility {
    /// Seconds since the epoch used for every timestamp.
    pub source_date_epoch: u64,
    /// Host name recorded in headers (`_buildhost`) and `KBUILD_BUILD_HOST`.
    pub buildhost: String,
}

/// Where [`Reproducibility::source_date_epoch`] came from (reported, so the
/// user knows what to pin in CI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpochSource {
    /// `--source-date-epoch`.
    Flag,
    /// The `SOURCE_DATE_EPOCH` environment variable.
    Environment,
    /// The newest `%changelog` entry of the spec.
    Changelog,
    /// No other source: the newest modification time of the inputs.
    InputMtime,
}

impl Reproducibility {
    /// Environment for rpmbuild/mock and everything they start.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "SOURCE_DATE_EPOCH".into(),
                self.source_date_epoch.to_string(),
            ),
            (
                "KBUILD_BUILD_TIMESTAMP".into(),
                kbuild_timestamp(self.source_date_epoch),
            ),
            ("KBUILD_BUILD_USER".into(), "kmodpack".into()),
            ("KBUILD_BUILD_HOST".into(), self.buildhost.clone()),
            ("TZ".into(), "UTC".into()),
            ("LC_ALL".into(), "C".into()),
            ("LANG".into(), "C".into()),
        ]
    }

    /// rpm macros (`--define "NAME VALUE"`).
    pub fn rpm_defines(&self) -> Vec<(String, String)> {
        vec![
            ("use_source_date_epoch_as_buildtime".into(), "1".into()),
            ("clamp_mtime_to_source_date_epoch".into(), "1".into()),
            ("_buildhost".into(), self.buildhost.clone()),
        ]
    }
}

/// `Thu Jan  1 00:00:00 UTC 1970` style, what `date` prints and Kbuild puts
/// into `UTS_VERSION`.
pub fn kbuild_timestamp(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let (y, m, d) = civil_from_days(days);
    let wday = ((days + 4).rem_euclid(7)) as usize; // 1970-01-01 was a Thursday
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} UTC {}",
        ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][wday],
        MONTHS[(m - 1) as usize],
        d,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        y
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `SOURCE_DATE_EPOCH` from the environment when it holds a number of
/// seconds: the one place kmodpack reads it (`build`'s default epoch, the
/// mtime of `spec`'s source archive).
pub fn epoch_from_env() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

/// The date of the first (newest) `%changelog` entry, at 00:00 UTC
/// (`* Sat Nov 21 2026 Name <mail> - 1.0-1`).
pub fn epoch_from_changelog(spec: &str) -> Option<u64> {
    let mut lines = spec
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("%changelog"));
    lines.next()?;
    let entry = lines.find(|l| l.starts_with('*'))?;
    epoch_from_date(entry.get(1..)?)
}

/// A changelog date as rpm writes it (`Sat Nov 21 2026`, anything after
/// the year ignored) at 00:00 UTC: a description's `changelog[].date` and a
/// spec's `%changelog` entry alike.
pub fn epoch_from_date(date: &str) -> Option<u64> {
    let mut words = date.split_whitespace();
    let _weekday = words.next()?;
    let month = MONTHS
        .iter()
        .position(|m| Some(*m) == words.clone().next())? as i64
        + 1;
    words.next();
    let day: i64 = words.next()?.parse().ok()?;
    let year: i64 = words.next()?.parse().ok()?;
    if !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    Some(days_from_civil(year, month, day) as u64 * 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_date() {
        // `TZ=UTC date -d @0` and `date -d @1700000000`.
        assert_eq!(kbuild_timestamp(0), "Thu Jan  1 00:00:00 UTC 1970");
        assert_eq!(
            kbuild_timestamp(1_700_000_000),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
    }

    #[test]
    fn changelog_date_is_the_newest_entry() {
        let spec = "Name: x\n%description\nx\n%changelog\n* Tue Nov 14 2023 A <a@b> - 1-1\n- new\n* Mon Jan 02 2023 A <a@b> - 0-1\n";
        // `date -d '2023-11-14 UTC' +%s`
        assert_eq!(epoch_from_changelog(spec), Some(1_699_920_000));
        assert_eq!(epoch_from_changelog("Name: x\n"), None);
        assert_eq!(epoch_from_date("Tue Nov 14 2023"), Some(1_699_920_000));
        assert_eq!(epoch_from_date("Nov 14 2023"), None);
        assert_eq!(
            epoch_from_changelog("%changelog\n* Tue Foo 14 2023 x\n"),
            None
        );
    }
}
