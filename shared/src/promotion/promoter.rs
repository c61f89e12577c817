//! [`PromotionService`]: what every step of a promotion works with (the
//! SageMaker and EventBridge clients, the stages' desired-state records, the
//! configuration) and the metrics it emits. The steps are `impl` blocks by
//! job: the event handlers in `service.rs`, convergence in `converge.rs`, the
//! deployment in `deploy.rs`; each calls only the ones after it.

use super::config::PromoteConfig;
use super::desired::DesiredStates;
use crate::functions::PROMOTE_MODEL;
use crate::telemetry::{Metrics, Unit};

pub struct PromotionService {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub desired: DesiredStates,
    pub config: PromoteConfig,
}

impl PromotionService {
    pub fn new(sdk: &aws_config::SdkConfig, config: PromoteConfig) -> Self {
        PromotionService {
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            desired: DesiredStates {
                s3: crate::aws::s3_client(sdk, config.aws),
                root: config.state.clone(),
            },
            config,
        }
    }

    /// One count of `name` for `stage` (EMF).
    pub(super) fn metric(&self, name: &str, stage: &str) {
        Metrics::new(&[("Function", PROMOTE_MODEL), ("Stage", stage)])
            .put(name, 1.0, Unit::Count)
            .emit();
    }
}
