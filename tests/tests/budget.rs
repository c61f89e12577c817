//! The template's `MonthlyBudget` (issue 29), created the way CloudFormation
//! would create it — its properties, resolved for a stack — in moto's Budgets,
//! which implements `CreateBudget` and the notification reads: a monthly cost
//! budget of the `MonthlyBudgetUsd` limit, counting what carries the stack's
//! cost-allocation tag, telling the alarm topic at 80 % and 100 % of actual
//! spend. moto evaluates no resource policies: that budgets.amazonaws.com may
//! publish to the encrypted topic is checked statement by statement below.

use aws_sdk_budgets::types::{
    Budget, BudgetType, ComparisonOperator, Notification, NotificationType,
    NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};
use integration_tests::{sdk_config, shared_moto, ACCOUNT};
use local_stack::template::{resolve, template};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:housing-mlops-dev-AlarmTopic";

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `CreateBudget`'s budget and notifications, from the resource's properties.
/// The template filters with `CostFilters` (what the CloudFormation resource
/// and cfn-lint take); the SDK marks it deprecated for `FilterExpression`.
#[allow(deprecated)]
fn create_budget(properties: &Value) -> (Budget, Vec<NotificationWithSubscribers>) {
    let b = &properties["Budget"];
    let filters: HashMap<String, Vec<String>> = b["CostFilters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_array().unwrap().iter().map(text).collect()))
        .collect();
    let budget = Budget::builder()
        .budget_name(text(&b["BudgetName"]))
        .budget_type(BudgetType::from(text(&b["BudgetType"]).as_str()))
        .time_unit(TimeUnit::from(text(&b["TimeUnit"]).as_str()))
        .budget_limit(
            Spend::builder()
                .amount(text(&b["BudgetLimit"]["Amount"]))
                .unit(text(&b["BudgetLimit"]["Unit"]))
                .build()
                .unwrap(),
        )
        .set_cost_filters(Some(filters))
        .build()
        .unwrap();
    let notifications = properties["NotificationsWithSubscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let detail = &n["Notification"];
            NotificationWithSubscribers::builder()
                .notification(
                    Notification::builder()
                        .notification_type(NotificationType::from(
                            text(&detail["NotificationType"]).as_str(),
                        ))
                        .comparison_operator(ComparisonOperator::from(
                            text(&detail["ComparisonOperator"]).as_str(),
                        ))
                        .threshold(detail["Threshold"].as_f64().unwrap())
                        .threshold_type(ThresholdType::from(
                            text(&detail["ThresholdType"]).as_str(),
                        ))
                        .build()
                        .unwrap(),
                )
                .set_subscribers(Some(
                    n["Subscribers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            Subscriber::builder()
                                .subscription_type(SubscriptionType::from(
                                    text(&s["SubscriptionType"]).as_str(),
                                ))
                                .address(text(&s["Address"]))
                                .build()
                                .unwrap()
                        })
                        .collect(),
                ))
                .build()
                .unwrap()
        })
        .collect();
    (budget, notifications)
}

#[tokio::test]
#[allow(deprecated)] // Budget::cost_filters, as above
async fn the_monthly_budget_tells_the_alarm_topic_at_80_and_100_percent_of_the_limit() {
    let template = template();
    let resource = &template["Resources"]["MonthlyBudget"];
    assert_eq!(resource["Type"].as_str(), Some("AWS::Budgets::Budget"));
    let default_limit = template["Parameters"]["MonthlyBudgetUsd"]["Default"]
        .as_u64()
        .unwrap()
        .to_string();
    let names = BTreeMap::from([
        ("MonthlyBudgetUsd", default_limit.as_str()),
        ("AWS::StackName", "housing-mlops-dev"),
        ("AlarmTopic", TOPIC),
    ]);
    let (budget, notifications) = create_budget(&resolve(&resource["Properties"], &names));
    let budgets = aws_sdk_budgets::Client::new(&sdk_config(&shared_moto()).await);
    budgets
        .create_budget()
        .account_id(ACCOUNT)
        .budget(budget)
        .set_notifications_with_subscribers(Some(notifications))
        .send()
        .await
        .unwrap();

    let described = budgets
        .describe_budget()
        .account_id(ACCOUNT)
        .budget_name("housing-mlops-dev-monthly")
        .send()
        .await
        .unwrap();
    let budget = described.budget().unwrap();
    assert_eq!(budget.time_unit(), &TimeUnit::Monthly);
    assert_eq!(budget.budget_type(), &BudgetType::Cost);
    let limit = budget.budget_limit().unwrap();
    assert_eq!(
        (limit.amount().parse::<f64>().unwrap(), limit.unit()),
        (400.0, "USD")
    );
    assert_eq!(
        budget.cost_filters().unwrap()["TagKeyValue"],
        ["user:housing-mlops:stack$housing-mlops-dev"],
        "what carries promote-model's and the stack's housing-mlops:stack tag"
    );
    let notifications = budgets
        .describe_notifications_for_budget()
        .account_id(ACCOUNT)
        .budget_name("housing-mlops-dev-monthly")
        .send()
        .await
        .unwrap();
    let mut thresholds: Vec<(f64, &NotificationType)> = notifications
        .notifications()
        .iter()
        .map(|n| (n.threshold(), n.notification_type()))
        .collect();
    thresholds.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        thresholds,
        [
            (80.0, &NotificationType::Actual),
            (100.0, &NotificationType::Actual)
        ]
    );
}

/// The topic and its key let AWS Budgets in, for this account's budgets only.
#[test]
fn budgets_may_publish_to_the_encrypted_alarm_topic() {
    let template = template();
    let names = BTreeMap::from([
        ("AWS::Partition", "aws"),
        ("AWS::AccountId", ACCOUNT),
        ("AWS::Region", "us-east-1"),
        ("AWS::StackName", "housing-mlops-dev"),
        ("AlarmTopic", TOPIC),
    ]);
    let statement = |resource: &str, policy: &str, sid: &str| -> Value {
        let document = resolve(
            &template["Resources"][resource]["Properties"][policy],
            &names,
        );
        document["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("{resource} has no statement {sid}"))
            .clone()
    };
    let topic = statement("AlarmTopicPolicy", "PolicyDocument", "BudgetsPublish");
    let key = statement("DataKey", "KeyPolicy", "BudgetsUseTheKey");
    for s in [&topic, &key] {
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Principal"]["Service"], "budgets.amazonaws.com");
        assert_eq!(s["Condition"]["StringEquals"]["aws:SourceAccount"], ACCOUNT);
        assert_eq!(
            s["Condition"]["ArnLike"]["aws:SourceArn"],
            format!("arn:aws:budgets::{ACCOUNT}:*")
        );
    }
    assert_eq!(topic["Action"], "sns:Publish");
    assert_eq!(topic["Resource"], TOPIC);
    assert_eq!(
        key["Action"],
        serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"])
    );
    // The limit is the stack's: a parameter with a floor.
    let parameter = &template["Parameters"]["MonthlyBudgetUsd"];
    assert_eq!(parameter["Type"].as_str(), Some("Number"));
    assert!(parameter["MinValue"].as_u64().unwrap() >= 1);
}
