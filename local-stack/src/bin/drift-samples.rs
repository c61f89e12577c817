//! `drift-samples INPUT OUT_DIR`: writes the drift demo's uploads made from a
//! housing CSV: OUT_DIR/shifted.csv (incomes scaled, one region removed) and
//! OUT_DIR/half.csv (a fixed half of the rows). See `local_stack::samples`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, out_dir] = args.as_slice() else {
        bail!("usage: drift-samples INPUT OUT_DIR");
    };
    let csv = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    std::fs::create_dir_all(out_dir)?;
    for (name, sample) in [
        ("shifted.csv", local_stack::samples::shifted(&csv)?),
        ("half.csv", local_stack::samples::half(&csv)?),
    ] {
        let rows = sample
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            .saturating_sub(1);
        let path = out_dir.join(name);
        std::fs::write(&path, sample).with_context(|| format!("writing {}", path.display()))?;
        println!("  {}: {rows} rows", path.display());
    }
    Ok(())
}
