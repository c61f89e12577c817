//! The machine's ceiling for the ETL's first step, measured by `bench/run` on the same
//! file as the ETL: how fast one core can read the file, find its lines, check it is
//! UTF-8, split it into CSV records (the `csv` crate, as the ETL does) and parse its
//! numbers (`str::parse::<f64>`, as the contract does). Prints seconds as JSON.
//!   cargo run --release -p etl --example ceiling -- FILE

use std::time::Instant;

fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed().as_secs_f64())
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: ceiling FILE (a housing CSV)");
    let (bytes, read) = timed(|| std::fs::read(&path).expect("the file reads"));
    let (lines, split_lines) = timed(|| memchr::memchr_iter(b'\n', &bytes).count());
    let (utf8, check_utf8) = timed(|| std::str::from_utf8(&bytes).is_ok());
    let parse = |numbers: bool| {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(&bytes[..]);
        let mut record = csv::ByteRecord::new();
        let (mut fields, mut sum) = (0usize, 0f64);
        while reader.read_byte_record(&mut record).expect("CSV reads") {
            fields += record.len();
            if numbers {
                for field in record.iter().take(9) {
                    let text = std::str::from_utf8(field).unwrap_or("");
                    sum += text.trim().parse::<f64>().unwrap_or(0.0);
                }
            }
        }
        (fields, sum)
    };
    let ((fields, _), csv_records) = timed(|| parse(false));
    let ((_, sum), csv_numbers) = timed(|| parse(true));
    println!(
        "{{\"bytes\": {}, \"lines\": {lines}, \"fields\": {fields}, \"utf8\": {utf8}, \"checksum\": {sum}, \
         \"read\": {read}, \"split_lines\": {split_lines}, \"check_utf8\": {check_utf8}, \
         \"csv_records\": {csv_records}, \"csv_numbers\": {csv_numbers}}}",
        bytes.len()
    );
}
