//! CRM: contacts, companies, pipelines with stages, opportunities, activities, the figures
//! sales teams ask for, and the audit trail with history and revert.

pub(crate) mod loader;
pub mod schema;
pub mod service;
pub mod types;

use platform::{Verticals, graphql::subscriptions::Sharing};

/// What the CRM brings to the platform: the board subscribers' shared snapshots, the
/// shared live board, its loaders and a new tenant's default pipeline.
pub fn register(verticals: &mut Verticals) {
    verticals.add_state(schema::BoardSnapshots::default());
    verticals.share_subscription("pipelineBoard", Sharing::LiveOnly);
    verticals.loaders.push(loader::attach);
    verticals.tenant_setup.push(|tx| {
        Box::pin(async move {
            service::pipelines::seed_default_pipeline(tx).await?;
            Ok(())
        })
    });
}
