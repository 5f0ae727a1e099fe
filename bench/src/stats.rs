//! Medians, percentiles and ranges of repeated measurements.

use std::time::Duration;

/// The `p`-th percentile (0-100) of `samples`, nearest rank.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50.0)
}

/// A figure measured once per run: its median over runs and its range.
#[derive(Debug, Clone, Default)]
pub struct Across {
    values: Vec<f64>,
}

impl Across {
    pub fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    /// `median (min–max)` with `digits` decimals.
    pub fn show(&self, digits: usize) -> String {
        if self.values.is_empty() {
            return "—".into();
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[(sorted.len() - 1) / 2];
        let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
        if sorted.len() == 1 {
            format!("{median:.digits$}")
        } else {
            format!("{median:.digits$} ({low:.digits$}–{high:.digits$})")
        }
    }
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(median(&samples), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
        let mut across = Across::default();
        for v in [3.0, 1.0, 2.0] {
            across.push(v);
        }
        assert_eq!(across.show(1), "2.0 (1.0–3.0)");
    }
}
