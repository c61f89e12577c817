//! The stack's model registry: its package group, a package registered as
//! the pipeline would, and an approval.

use super::*;

impl Stack {
    /// The model package group the pipeline registers models in.
    pub fn model_package_group(&self) -> String {
        format!("{}-models", self.pipeline_name())
    }

    pub async fn create_model_package_group(&self, clients: &Clients) -> Result<()> {
        clients
            .sagemaker
            .create_model_package_group()
            .model_package_group_name(self.model_package_group())
            .model_package_group_description("housing-mlops models (local stack)")
            .send()
            .await
            .context("create model package group")?;
        Ok(())
    }

    /// Registers a model package with the metadata promotion reads
    /// (PendingManualApproval), for tests that need packages of given RMSEs; the
    /// main job registers the one the pipeline runner trained.
    pub async fn register_model(
        &self,
        clients: &Clients,
        validation_rmse: f64,
        dataset_id: &str,
        execution_arn: &str,
    ) -> Result<String> {
        let artifact = format!("models/{dataset_id}/model.tar.gz");
        self.register_artifact(
            clients,
            validation_rmse,
            dataset_id,
            execution_arn,
            &artifact,
        )
        .await
    }

    /// [`Self::register_model`] with the model archive at `artifact_key` of
    /// the processed bucket (another model of the same dataset).
    pub async fn register_artifact(
        &self,
        clients: &Clients,
        validation_rmse: f64,
        dataset_id: &str,
        execution_arn: &str,
        artifact_key: &str,
    ) -> Result<String> {
        use aws_sdk_sagemaker::types::{
            InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
        };
        let container = ModelPackageContainerDefinition::builder()
            .image(xgboost_image(REGION).context("XGBoost image")?)
            .model_data_url(format!("s3://{}/{artifact_key}", self.processed_bucket))
            .build();
        let inference = InferenceSpecification::builder()
            .containers(container)
            .supported_content_types("text/csv")
            .supported_response_mime_types("text/csv")
            .build();
        let out = clients
            .sagemaker
            .create_model_package()
            .model_package_group_name(self.model_package_group())
            .inference_specification(inference)
            .model_approval_status(ModelApprovalStatus::PendingManualApproval)
            .customer_metadata_properties(METADATA_DATASET_ID, dataset_id)
            .customer_metadata_properties(METADATA_VALIDATION_RMSE, validation_rmse.to_string())
            .customer_metadata_properties(METADATA_EXECUTION_ARN, execution_arn)
            .send()
            .await
            .context("create model package")?;
        Ok(out.model_package_arn().unwrap_or_default().to_string())
    }

    /// Approves a model package in the registry (what a reviewer does).
    pub async fn approve(&self, clients: &Clients, arn: &str) -> Result<()> {
        // moto's UpdateModelPackage drops the metadata unless it is sent again
        // (SageMaker keeps it); sending it unchanged is harmless on both.
        let described = clients
            .sagemaker
            .describe_model_package()
            .model_package_name(arn)
            .send()
            .await
            .context("describe model package")?;
        clients
            .sagemaker
            .update_model_package()
            .model_package_arn(arn)
            .model_approval_status(aws_sdk_sagemaker::types::ModelApprovalStatus::Approved)
            .approval_description("approved by the local stack")
            .set_customer_metadata_properties(described.customer_metadata_properties().cloned())
            .send()
            .await
            .context("approve model package")?;
        Ok(())
    }
}
