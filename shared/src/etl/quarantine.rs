//! `quarantine.csv`, written as the rows are checked: a bad row goes to disk
//! with its line, its reasons and its fields exactly as read, and memory holds
//! only the counts, however many rows are bad.

use super::error::EtlError;
use crate::contract::Reason;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// The open quarantine file of a run.
pub struct Quarantine {
    writer: csv::Writer<BufWriter<File>>,
    counts: Quarantined,
    reasons: String,
}

/// What went to quarantine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantined {
    pub rows: u64,
    /// Reason code → number of quarantined rows carrying it (a row may have several).
    pub reasons: BTreeMap<String, u64>,
}

fn failed(e: csv::Error) -> EtlError {
    match e.kind() {
        csv::ErrorKind::Io(io) => EtlError::io("writing quarantine.csv", io),
        _ => EtlError::Internal(format!("writing quarantine.csv: {e}")),
    }
}

impl Quarantine {
    /// Creates the file, with its header: `source_line`, `reasons`, then the
    /// input's own header as written.
    pub fn create(path: &Path, header: &[String]) -> Result<Self, EtlError> {
        let file = File::create(path)
            .map_err(|e| EtlError::io(format_args!("creating {}", path.display()), &e))?;
        // csv's writer re-checks a field for quoting on every buffer refill: a large
        // buffer keeps writing a long field linear.
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_writer(BufWriter::new(file));
        let head = ["source_line", "reasons"]
            .into_iter()
            .chain(header.iter().map(String::as_str));
        writer.write_record(head).map_err(failed)?;
        Ok(Quarantine {
            writer,
            counts: Quarantined::default(),
            reasons: String::new(),
        })
    }

    /// One bad row: its 1-based line, why, and its fields exactly as read.
    pub fn row(
        &mut self,
        line: u64,
        reasons: &[Reason],
        fields: &csv::ByteRecord,
    ) -> Result<(), EtlError> {
        use std::fmt::Write;
        self.reasons.clear();
        for (i, reason) in reasons.iter().enumerate() {
            let separator = if i == 0 { "" } else { ";" };
            let _ = write!(self.reasons, "{separator}{reason}");
            *self.counts.reasons.entry(reason.to_string()).or_insert(0) += 1;
        }
        self.counts.rows += 1;
        let line = line.to_string();
        let record = [line.as_bytes(), self.reasons.as_bytes()]
            .into_iter()
            .chain(fields.iter());
        self.writer.write_record(record).map_err(failed)
    }

    /// Flushes the file; returns the counts.
    pub fn finish(mut self) -> Result<Quarantined, EtlError> {
        self.writer
            .flush()
            .map_err(|e| EtlError::io("writing quarantine.csv", &e))?;
        Ok(self.counts)
    }
}
