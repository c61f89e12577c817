# Sourced by every script: one place for the local environment.
# - Builds go to a target directory outside the clone, reused across clones
#   (override with CARGO_TARGET_DIR).
# - The project's venv (moto, cargo-lambda) comes first on PATH.
# - AWS settings for the local stack: a region and no instance-metadata probing.
HOUSING_MLOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HOUSING_MLOPS_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/housing-mlops/target}"
# Release builds for Lambda (sam build, cargo lambda build) get their own directory.
export LAMBDA_TARGET_DIR="${LAMBDA_TARGET_DIR:-$HOME/.cache/housing-mlops/target-lambda}"
export HOUSING_MLOPS_VENV="${HOUSING_MLOPS_VENV:-$HOUSING_MLOPS_ROOT/.venv}"
export PATH="$HOUSING_MLOPS_VENV/bin:$HOME/.cargo/bin:$PATH"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
# aws-lc's jitter entropy source costs start-up time and is not needed here.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
