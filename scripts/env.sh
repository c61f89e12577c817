# Sourced by every script: one place for the local environment.
# - Builds go to a target directory outside the clone, reused across clones
#   (override with CARGO_TARGET_DIR).
# - The project's venv (moto, XGBoost) comes first on PATH, then cargo-lambda's (shared by
#   every clone on the machine, so that release builds stay warm across clones).
# - AWS settings for the local stack: a region and no instance-metadata probing.
HOUSING_MLOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HOUSING_MLOPS_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/housing-mlops/target}"
# Release builds for Lambda (sam build, cargo lambda build) get their own directory.
export LAMBDA_TARGET_DIR="${LAMBDA_TARGET_DIR:-$HOME/.cache/housing-mlops/target-lambda}"
export HOUSING_MLOPS_VENV="${HOUSING_MLOPS_VENV:-$HOUSING_MLOPS_ROOT/.venv}"
# The tools venv (cargo-lambda, uv): one per machine, at a path every clone shares (scripts/lambda-requirements.txt).
# Only its cargo-lambda goes on PATH (on-path/), ahead of any an older clone's venv holds; the
# Zig it cross-compiles with is named outright.
export LAMBDA_TOOLS="${LAMBDA_TOOLS:-$HOME/.cache/housing-mlops/lambda-tools}"
export CARGO_ZIGBUILD_ZIG_PATH="$LAMBDA_TOOLS/zig"
export PATH="$LAMBDA_TOOLS/on-path:$HOUSING_MLOPS_VENV/bin:$HOME/.cargo/bin:$PATH"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
# aws-lc's jitter entropy source costs start-up time and is not needed here.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
