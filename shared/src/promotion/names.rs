//! The deterministic names of what promote-model creates: one SageMaker Model
//! per package version, one EndpointConfig per package and stage settings.

use super::config::DataCapture;
use crate::stages::{Fleet, Package, Stage, MAX_NAME_LEN};
use sha2::{Digest, Sha256};

fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..4])
}

/// `base` + `suffix`, `base` shortened so the whole fits SageMaker's 63 characters.
fn fit(base: &str, suffix: &str) -> String {
    let room = MAX_NAME_LEN.saturating_sub(suffix.len());
    let base = base[..base.len().min(room)].trim_end_matches('-');
    format!("{base}{suffix}")
}

/// The SageMaker Model of a package version: `<group>-v<version>` (shortened
/// with a hash of the group when too long). One per package, shared by the
/// stages on instances.
pub fn model_name(package: &Package) -> String {
    versioned(package, "")
}

/// The Model a stage deploys `package` with: [`model_name`], or on a
/// serverless stage `<group>-v<version>-serverless`, a Model without network
/// isolation, which SageMaker Serverless Inference does not support (a Model
/// cannot be changed once created, so the two are separate).
pub fn stage_model_name(package: &Package, stage: &Stage) -> String {
    if stage.is_serverless() {
        versioned(package, "-serverless")
    } else {
        model_name(package)
    }
}

/// `<group>-v<version><suffix>`, the group shortened with its hash when too long.
fn versioned(package: &Package, suffix: &str) -> String {
    let plain = format!("{}-v{}{suffix}", package.group, package.version);
    if plain.len() <= MAX_NAME_LEN {
        plain
    } else {
        fit(
            &package.group,
            &format!(
                "-{}-v{}{suffix}",
                short_hash(&[&package.group]),
                package.version
            ),
        )
    }
}

/// The EndpointConfig of a package version on a stage:
/// `<endpoint>-v<version>-<hash>`, the hash over the package and every stage
/// setting the config holds, so the same package with the same settings always
/// names the same config (a re-delivery finds it), and a settings change makes a new one.
pub fn endpoint_config_name(
    package: &Package,
    stage: &Stage,
    capture: Option<&DataCapture>,
) -> String {
    // The fleet as the config holds it (autoscaling is not in the config).
    let fleet: Vec<String> = match stage.fleet() {
        Fleet::Instances {
            instance_type,
            count,
            ..
        } => vec![instance_type.to_string(), count.to_string()],
        Fleet::Serverless(s) => vec![
            "serverless".into(),
            s.memory_mb.to_string(),
            s.max_concurrency.to_string(),
            s.provisioned_concurrency
                .map_or(String::new(), |p| p.to_string()),
        ],
    };
    let percent = stage.data_capture_percent.to_string();
    let mut settings = vec![package.arn.as_str(), &stage.variant];
    settings.extend(fleet.iter().map(String::as_str));
    settings.extend([percent.as_str(), capture.map_or("", |c| c.uri.as_str())]);
    // Only when there is one, so the names of configs without a key stay as they were.
    if let Some(key) = capture.and_then(|c| c.kms_key_arn.as_deref()) {
        settings.push(key);
    }
    let hash = short_hash(&settings);
    fit(&stage.endpoint, &format!("-v{}-{hash}", package.version))
}

/// The EndpointConfig of a shadow test on a stage: the Model the stage serves
/// now (from `serving_config`, of package version `serving_version`) on the
/// production variant, `candidate` on the shadow variant:
/// `<endpoint>-v<serving>-shadow-v<candidate>-<hash>`, the hash over the
/// serving config, the candidate, the stage's fleet and the share of requests
/// copied.
pub fn shadow_config_name(
    serving_config: &str,
    serving_version: u32,
    candidate: &Package,
    stage: &Stage,
) -> String {
    let fleet = match stage.fleet() {
        Fleet::Instances {
            instance_type,
            count,
            ..
        } => format!("{instance_type}/{count}"),
        Fleet::Serverless(_) => "serverless".into(),
    };
    let sample = stage
        .shadow
        .map(|t| t.sample_percent.to_string())
        .unwrap_or_default();
    let hash = short_hash(&[serving_config, &candidate.arn, &fleet, &sample]);
    fit(
        &stage.endpoint,
        &format!("-v{serving_version}-shadow-v{}-{hash}", candidate.version),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::{is_valid_sagemaker_name, Stages};

    #[test]
    fn names_are_deterministic_valid_and_change_with_the_settings() {
        // dev as it was before serverless stages: one ml.m5.large, everything captured.
        let dev = Stages::parse(
            "rmse_tolerance: 0.02\nstages:\n  - name: dev\n    endpoint: housing-mlops-dev\n    instance_type: ml.m5.large\n    instance_count: 1\n    data_capture_percent: 100\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap()
        .first()
        .clone();
        let p = Package::registered("housing-models", 3);
        assert_eq!(model_name(&p), "housing-models-v3");
        let capture = DataCapture {
            uri: "s3://b/capture".into(),
            kms_key_arn: None,
        };
        let name = endpoint_config_name(&p, &dev, Some(&capture));
        assert!(name.starts_with("housing-mlops-dev-v3-"), "{name}");
        assert_eq!(name, endpoint_config_name(&p, &dev, Some(&capture)));
        // Computed before: the name of a config is kept across releases, or every
        // stage would be redeployed by an upgrade of promote-model.
        assert_eq!(name, "housing-mlops-dev-v3-907a30de");
        let mut bigger = dev.clone();
        bigger.instance_count = bigger.instance_count.map(|c| c + 1);
        assert_ne!(name, endpoint_config_name(&p, &bigger, Some(&capture)));
        // Autoscaling is not in the config: changing it redeploys nothing.
        let mut scaled = dev.clone();
        scaled.autoscaling = Some(crate::stages::Autoscaling {
            min: 1,
            max: 3,
            target_invocations_per_instance: 100,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        });
        assert_eq!(name, endpoint_config_name(&p, &scaled, Some(&capture)));
        let mut serverless = dev.clone();
        (serverless.instance_type, serverless.instance_count) = (None, None);
        serverless.serverless = Some(crate::stages::Serverless {
            memory_mb: 2048,
            max_concurrency: 5,
            provisioned_concurrency: None,
        });
        let serverless_name = endpoint_config_name(&p, &serverless, Some(&capture));
        assert_ne!(name, serverless_name);
        serverless.serverless = serverless.serverless.map(|s| crate::stages::Serverless {
            memory_mb: 3072,
            ..s
        });
        assert_ne!(
            serverless_name,
            endpoint_config_name(&p, &serverless, Some(&capture))
        );
        assert_eq!(stage_model_name(&p, &dev), "housing-models-v3");
        assert_eq!(
            stage_model_name(&p, &serverless),
            "housing-models-v3-serverless"
        );
        assert_ne!(
            name,
            endpoint_config_name(
                &Package::registered("housing-models", 4),
                &dev,
                Some(&capture)
            )
        );
        // Another capture key is another config.
        let keyed = DataCapture {
            kms_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            ..capture.clone()
        };
        assert_ne!(name, endpoint_config_name(&p, &dev, Some(&keyed)));

        let long = Package::registered(&"g".repeat(63), 12345);
        let mut long_stage = dev;
        long_stage.endpoint = "e".repeat(63);
        for name in [
            model_name(&long),
            stage_model_name(&long, &serverless),
            endpoint_config_name(&long, &long_stage, None),
        ] {
            assert!(is_valid_sagemaker_name(&name), "{name}");
            assert!(
                name.ends_with("-v12345") || name.contains("-v12345-"),
                "{name}"
            );
        }
    }
}
