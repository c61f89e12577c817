//! The stack's CloudFormation outputs, registered in moto as the template declares them, so
//! the operators' command finds a local stack by name as it finds a deployed one.

use super::*;

impl Stack {
    /// Registers this stack in moto's CloudFormation with the outputs the template gives a
    /// deployed one ([`shared::outputs`]), so that the operators' command finds a local stack
    /// by name as it finds one on AWS. Its only resource is a WaitConditionHandle, which
    /// creates nothing.
    pub(super) async fn publish_outputs(&self, clients: &Clients) -> Result<()> {
        let outputs: serde_json::Map<String, serde_json::Value> = self
            .outputs()
            .into_iter()
            .map(|(name, value)| (name.to_string(), serde_json::json!({ "Value": value })))
            .collect();
        let template = serde_json::json!({
            "Resources": { "Outputs": { "Type": "AWS::CloudFormation::WaitConditionHandle" } },
            "Outputs": outputs,
        });
        clients
            .cloudformation
            .create_stack()
            .stack_name(&self.name)
            .template_body(template.to_string())
            .send()
            .await
            .context("register the stack in CloudFormation")?;
        Ok(())
    }

    /// The stack's outputs, as the template names them.
    pub fn outputs(&self) -> [(&'static str, String); 5] {
        use shared::outputs::*;
        [
            (RAW_BUCKET, self.raw_bucket.clone()),
            (PROCESSED_BUCKET, self.processed_bucket.clone()),
            (EVENT_BUS, self.bus.clone()),
            (MODEL_PACKAGE_GROUP, self.model_package_group()),
            (PROMOTION_STATE_URI, self.promotion_state_uri()),
        ]
    }
}
