#!/usr/bin/env python3
"""The Lambda package budgets: each function's release `bootstrap` (as `sam build` leaves it in
infra/.aws-sam/build/<Function>/), zipped the way a deployment zips it, must fit its budget.

usage: package_budgets.py [--build-dir DIR]    exit 1 when a budget is exceeded or a package is missing
bench/benchmark.py imports BUDGETS and sizes() to report the same numbers in BENCHMARKS.md.
"""

import argparse
import os
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "infra", ".aws-sam", "build")
MB = 10**6
# issue 6 (issue 15 for predict; issue 17: the ETL 10 MB, the functions that move no data
# 4 MB, the two newest 6 MB): the zipped release bootstrap of each function, in bytes.
# Issue 29 gave promote-model a second AWS client (Application Auto Scaling, 0.2 MB) and the
# time-zone database for sleeping stages (chrono-tz, 0.22 MB; no smaller with opt-level "z"):
# 4.19 MB, so its budget is 5 MB. Issue 30's shadow tests read the variants' metrics
# (CloudWatch's client, pinned to the query protocol moto serves): 4.48 MB built alone.
BUDGETS = {
    "EtlFunction": 10 * MB,
    "StartPipelineFunction": 4 * MB,
    "PromoteModelFunction": 5 * MB,
    "PredictFunction": 6 * MB,
    "MonitorFunction": 6 * MB,
    # Issue 30: the batch scoring writes the predictions' Parquet (Polars, as the ETL), without
    # the ETL's Glue client and frame work.
    "ScoreFunction": 8 * MB,
}


def sizes(build_dir: str = BUILD) -> dict:
    """Function -> (bootstrap bytes, zipped bytes), for the packages that exist."""
    out = {}
    for function in BUDGETS:
        bootstrap = os.path.join(build_dir, function, "bootstrap")
        if os.path.exists(bootstrap):
            with tempfile.NamedTemporaryFile(suffix=".zip") as z:
                with zipfile.ZipFile(z.name, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
                    archive.write(bootstrap, "bootstrap")
                out[function] = (os.path.getsize(bootstrap), os.path.getsize(z.name))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=BUILD)
    args = parser.parse_args()
    measured = sizes(args.build_dir)
    failed = False
    for function, budget in BUDGETS.items():
        if function not in measured:
            print(f"{function}: no bootstrap in {args.build_dir} (run sam build first)", file=sys.stderr)
            failed = True
            continue
        raw, zipped = measured[function]
        verdict = "ok" if zipped <= budget else "OVER BUDGET"
        print(f"   {function}: bootstrap {raw / MB:.1f} MB, zipped {zipped / MB:.2f} MB, budget {budget / MB:.0f} MB: {verdict}")
        failed |= zipped > budget
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
