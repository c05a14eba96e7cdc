//! Result tables: aligned text for the terminal, markdown for the report
//! file, with each server's key figure compared to TCP Chat's.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::servers::ServerKind;

/// Latencies in microseconds, 1 µs to 10 min at 3 significant digits.
#[allow(clippy::expect_used)] // constant bounds: cannot fail
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn record_latency(histogram: &mut Histogram<u64>, micros: u64) {
    histogram.saturating_record(micros.max(1));
}

/// "1.23 ms" style, from microseconds.
pub fn micros(value: u64) -> String {
    match value {
        0..=999 => format!("{value} µs"),
        1_000..=999_999 => format!("{:.2} ms", value as f64 / 1e3),
        _ => format!("{:.2} s", value as f64 / 1e6),
    }
}

pub fn quantile(histogram: &Histogram<u64>, q: f64) -> String {
    if histogram.is_empty() {
        "-".to_owned()
    } else {
        micros(histogram.value_at_quantile(q))
    }
}

pub fn max(histogram: &Histogram<u64>) -> String {
    if histogram.is_empty() {
        "-".to_owned()
    } else {
        micros(histogram.max())
    }
}

pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

pub fn rate(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.0}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Which way a figure is better, for the ratio column's wording.
#[derive(Debug, Clone, Copy)]
pub enum Better {
    Higher,
    Lower,
}

/// One server's row: its cells, and the key figure compared across servers.
pub struct Row {
    pub server: ServerKind,
    pub cells: Vec<String>,
    pub key: Option<f64>,
}

pub struct Table {
    pub title: String,
    pub notes: Vec<String>,
    pub headers: Vec<&'static str>,
    /// What the ratio column compares, e.g. "deliveries/s".
    pub key_name: &'static str,
    pub better: Better,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn new(
        title: String,
        headers: Vec<&'static str>,
        key_name: &'static str,
        better: Better,
    ) -> Table {
        Table {
            title,
            notes: Vec::new(),
            headers,
            key_name,
            better,
            rows: Vec::new(),
        }
    }

    /// A server that could not be measured: its reason fills the row.
    pub fn push_failure(&mut self, server: ServerKind, reason: &str) {
        let first_line = reason.lines().next().unwrap_or(reason);
        let mut cells = vec![format!("not measured: {first_line}")];
        cells.resize(self.headers.len(), String::new());
        self.rows.push(Row {
            server,
            cells,
            key: None,
        });
    }

    fn ratio_header(&self) -> String {
        format!("{} vs tcp-chat", self.key_name)
    }

    fn ratio(&self, row: &Row) -> String {
        let baseline = self
            .rows
            .iter()
            .find(|row| row.server == ServerKind::TcpChat)
            .and_then(|row| row.key);
        match (row.key, baseline) {
            (Some(value), Some(base)) if base > 0.0 => {
                let ratio = value / base;
                match self.better {
                    Better::Higher => format!("{ratio:.2}×"),
                    Better::Lower => format!("{ratio:.2}× (lower is better)"),
                }
            }
            _ => "n/a".to_owned(),
        }
    }

    fn grid(&self) -> Vec<Vec<String>> {
        let mut grid = vec![std::iter::once("server".to_owned())
            .chain(self.headers.iter().map(|h| (*h).to_owned()))
            .chain(std::iter::once(self.ratio_header()))
            .collect::<Vec<_>>()];
        for row in &self.rows {
            grid.push(
                std::iter::once(row.server.name().to_owned())
                    .chain(row.cells.iter().cloned())
                    .chain(std::iter::once(self.ratio(row)))
                    .collect(),
            );
        }
        grid
    }

    pub fn to_text(&self) -> String {
        let grid = self.grid();
        let columns = grid.first().map_or(0, Vec::len);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                grid.iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("\n== {} ==\n", self.title);
        for row in &grid {
            for (cell, width) in row.iter().zip(&widths) {
                let _ = write!(out, "{cell:<width$}  ");
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let grid = self.grid();
        let mut out = format!("\n## {}\n\n", self.title);
        for (index, row) in grid.iter().enumerate() {
            let _ = writeln!(out, "| {} |", row.join(" | "));
            if index == 0 {
                let _ = writeln!(out, "|{}", " --- |".repeat(row.len()));
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        out
    }
}
