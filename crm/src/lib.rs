//! CRM: contacts, companies, pipelines with stages and the live board, opportunities,
//! activities, the figures sales teams ask for, and the audit trail with history and revert.
//!
//! One folder per entity, each the same shape: `mod.rs` its rules (the service, testable
//! without HTTP), `schema.rs` its GraphQL objects, inputs and root fields, `loader.rs` its
//! dataloaders. `shared.rs` holds what they share.

pub mod activities;
pub mod companies;
pub mod contacts;
pub mod figures;
pub mod opportunities;
pub mod pipelines;
mod shared;
pub mod types;

use std::sync::Arc;

use async_graphql::{MergedObject, Request};
use platform::{
    Verticals, attach_loaders,
    audit::Revertible,
    auth::Role,
    graphql::{batching::RequestSpawner, subscriptions::Sharing},
    revert_by_update,
    tenancy::TenantTx,
};

pub use pipelines::subscription::{BoardSnapshots, CrmSubscription, check_pipeline};
pub use shared::Patch;

use activities::events::Activities;
use companies::events::Companies;
use contacts::events::Contacts;
use opportunities::events::Opportunities;
use pipelines::events::{Pipelines, Stages};

/// The CRM's query fields, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct CrmQuery(
    contacts::schema::ContactsQuery,
    companies::schema::CompaniesQuery,
    pipelines::schema::PipelinesQuery,
    opportunities::schema::OpportunitiesQuery,
    activities::schema::ActivitiesQuery,
    figures::schema::FiguresQuery,
);

/// The CRM's mutations, each entity's in the order the schema lists them.
#[derive(MergedObject, Default)]
pub struct CrmMutation(
    contacts::schema::ContactsMutation,
    companies::schema::CompaniesMutation,
    pipelines::schema::PipelinesMutation,
    opportunities::schema::OpportunitiesMutation,
    activities::schema::ActivitiesMutation,
);

/// What the CRM brings to the platform: the board subscribers' shared snapshots, the
/// shared live board, its loaders, its audited entities and how each is reverted, and a new
/// tenant's default pipeline.
pub fn register(verticals: &mut Verticals) {
    verticals.add_state(BoardSnapshots::default());
    verticals.share_subscription("pipelineBoard", Sharing::LiveOnly);
    verticals.loaders.push(attach);
    let by = |min_role, revert| Revertible { min_role, revert };
    verticals.audited::<Contacts>(by(Role::Sales, revert_by_update!(contacts::update)));
    verticals.audited::<Companies>(by(Role::Sales, revert_by_update!(companies::update)));
    verticals.audited::<Opportunities>(by(Role::Sales, |conn, actor, restore| {
        Box::pin(opportunities::revert(conn, actor, restore))
    }));
    verticals.audited::<Activities>(by(Role::Sales, |conn, actor, restore| {
        Box::pin(activities::revert(conn, actor, restore))
    }));
    verticals.audited::<Pipelines>(by(Role::Manager, revert_by_update!(pipelines::update)));
    verticals.audited::<Stages>(by(
        Role::Manager,
        revert_by_update!(pipelines::update_stage),
    ));
    verticals.tenant_setup.push(|tx| {
        Box::pin(async move {
            pipelines::seed_default_pipeline(tx).await?;
            Ok(())
        })
    });
}

/// Puts the CRM's loaders on a request.
fn attach(request: Request, tx: &Arc<TenantTx>, spawner: &RequestSpawner) -> Request {
    attach_loaders!(
        request,
        tx,
        spawner,
        contacts::loader::ContactById,
        contacts::loader::TagsByContact,
        contacts::loader::OpportunitiesByContact,
        companies::loader::CompanyById,
        companies::loader::ContactsByCompany,
        companies::loader::OpportunitiesByCompany,
        pipelines::loader::PipelineById,
        pipelines::loader::StageById,
        pipelines::loader::StagesByPipeline,
        pipelines::loader::FirstOpportunitiesPerStage,
        pipelines::loader::StageTotalsLoader,
        opportunities::loader::OpportunityById,
        opportunities::loader::LatestActivity,
        opportunities::loader::StageHistory,
    )
}
