//! The routes: each one's matchit pattern, what it does and its method.

use crate::openapi;
use lambda_http::http::Method;
use std::sync::LazyLock;

pub const MODEL_ROUTE: &str = "/v1/model";
pub const PREDICTIONS_ROUTE: &str = "/v1/predictions";

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Page,
    OpenApi,
    Model,
    Predictions,
    V1Status,
    V1Predict,
    V2Server,
    V2Live,
    V2Ready,
    V2Metadata,
    V2ModelReady,
    V2Infer,
}

impl Route {
    /// The metrics' `Route` dimension.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Route::Page => "page",
            Route::OpenApi => "openapi",
            Route::Model => "model",
            Route::Predictions => "predictions",
            Route::V1Status => "kserve_v1_status",
            Route::V1Predict => "kserve_v1_predict",
            Route::V2Server => "v2_server",
            Route::V2Live => "v2_live",
            Route::V2Ready => "v2_ready",
            Route::V2Metadata => "v2_metadata",
            Route::V2ModelReady => "v2_model_ready",
            Route::V2Infer => "v2_infer",
        }
    }

    pub(crate) fn method(self) -> Method {
        match self {
            Route::Predictions | Route::V1Predict | Route::V2Infer => Method::POST,
            _ => Method::GET,
        }
    }
}

/// Every route: its matchit pattern and what it does (its method is the route's).
pub(crate) const ROUTES: [(&str, Route); 15] = [
    ("/", Route::Page),
    (openapi::OPENAPI_ROUTE, Route::OpenApi),
    (MODEL_ROUTE, Route::Model),
    (PREDICTIONS_ROUTE, Route::Predictions),
    ("/v1/models/{name}", Route::V1Status),
    ("/v1/models/{name}:predict", Route::V1Predict),
    ("/v2", Route::V2Server),
    ("/v2/health/live", Route::V2Live),
    ("/v2/health/ready", Route::V2Ready),
    ("/v2/models/{name}", Route::V2Metadata),
    ("/v2/models/{name}/versions/{version}", Route::V2Metadata),
    ("/v2/models/{name}/ready", Route::V2ModelReady),
    (
        "/v2/models/{name}/versions/{version}/ready",
        Route::V2ModelReady,
    ),
    ("/v2/models/{name}/infer", Route::V2Infer),
    ("/v2/models/{name}/versions/{version}/infer", Route::V2Infer),
];

pub(crate) static ROUTER: LazyLock<matchit::Router<Route>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for (pattern, route) in ROUTES {
        router
            .insert(pattern, route)
            .expect("the routes do not overlap (this module's tests)");
    }
    router
});
