//! [`PromotionService`]: what every step of a promotion works with (the
//! SageMaker and EventBridge clients, the stages' desired-state records, the
//! configuration) and the metrics it emits. The steps are `impl` blocks by
//! job: the event handlers in `service.rs`, convergence in `converge.rs`, the
//! deployment in `deploy.rs`, shadow tests in `shadowing.rs`, autoscaling in
//! `scaling.rs`; each calls only the ones after it.

use super::config::PromoteConfig;
use super::desired::DesiredStates;
use crate::functions::PROMOTE_MODEL;
use crate::stages::{Lineage, TAG_COMPONENT, TAG_STACK};
use crate::telemetry::{Metrics, Unit};

pub struct PromotionService {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// The variants' metrics a shadow test is judged on.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub desired: DesiredStates,
    pub config: PromoteConfig,
}

impl PromotionService {
    /// The clients, with call timeouts ([`crate::aws::with_call_timeouts`]): a hung
    /// SageMaker or S3 call fails, retryable, instead of running a tick into the
    /// function's timeout.
    pub fn new(sdk: &aws_config::SdkConfig, config: PromoteConfig) -> Self {
        let sdk = &crate::aws::with_call_timeouts(sdk);
        PromotionService {
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
            desired: DesiredStates {
                s3: crate::aws::s3_client(sdk, config.aws),
                root: config.state.clone(),
            },
            config,
        }
    }

    /// The cost-allocation tags of everything promote-model creates: the
    /// component, and the stack when `STACK_NAME` names it.
    pub(super) fn cost_tags(&self) -> Vec<aws_sdk_sagemaker::types::Tag> {
        let tag = |k: &str, v: &str| {
            aws_sdk_sagemaker::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        };
        let mut tags = vec![tag(TAG_COMPONENT, "serving")];
        if let Some(stack) = &self.config.stack_name {
            tags.push(tag(TAG_STACK, stack));
        }
        tags
    }

    /// The tags of a Model or EndpointConfig deployed with `lineage`: the
    /// lineage's, then the cost-allocation ones.
    pub(super) fn deployment_tags(&self, lineage: &Lineage) -> Vec<aws_sdk_sagemaker::types::Tag> {
        let mut tags: Vec<_> = lineage
            .tags()
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_sagemaker::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            })
            .collect();
        tags.extend(self.cost_tags());
        tags
    }

    /// One count of `name` for `stage` (EMF).
    pub(super) fn metric(&self, name: &str, stage: &str) {
        Metrics::new(&[("Function", PROMOTE_MODEL), ("Stage", stage)])
            .put(name, 1.0, Unit::Count)
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::CALL_TIMEOUT;
    use crate::config::Config;

    #[test]
    fn every_client_has_call_timeouts() {
        let config = PromoteConfig::from_lookup(|name| {
            Some(
                match name {
                    "AWS_REGION" => "us-east-1",
                    "DEAD_LETTER_QUEUE_URL" => {
                        "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
                    }
                    "MODEL_PACKAGE_GROUPS" => "housing-models",
                    "EXPECTED_ACCOUNT_ID" => "123456789012",
                    "EVENT_BUS_NAME" => "bus",
                    "SAGEMAKER_ROLE_ARN" => "arn:aws:iam::123456789012:role/endpoint",
                    "DATA_CAPTURE_S3_URI" => "s3://processed/data-capture",
                    "PROMOTION_STATE_S3_URI" => "s3://processed/promotion",
                    _ => return None,
                }
                .to_string(),
            )
        })
        .unwrap();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let service = PromotionService::new(&sdk, config);
        let timeouts = [
            service.sagemaker.config().timeout_config().cloned(),
            service.autoscaling.config().timeout_config().cloned(),
            service.cloudwatch.config().timeout_config().cloned(),
            service.events.config().timeout_config().cloned(),
            service.desired.s3.config().timeout_config().cloned(),
        ];
        for timeout in timeouts {
            let timeout = timeout.expect("a timeout configuration");
            assert_eq!(timeout.operation_timeout(), Some(CALL_TIMEOUT));
        }
    }
}
