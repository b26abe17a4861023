//! The stand-in's published files: `/presentation/<recordID>/…` from `--published DIR`.

use crate::api::State;
use axum::Router;
use std::sync::Arc;
use tower_http::services::ServeDir;

/// Routes serving published recordings (Range requests supported).
pub fn routes(state: Arc<State>) -> Router {
    match &state.opts.published {
        Some(dir) => Router::new().nest_service("/presentation", ServeDir::new(dir)),
        None => Router::new(),
    }
}
