//! Per-request dataloaders for every CRM edge (see [`platform::graphql::loaders`]). Each batch
//! is one statement whatever the number of parents.

use std::{collections::HashMap, sync::Arc};

use async_graphql::Request;
use entity::tenant::{
    activity, company, contact, contact_tag, opportunity, pipeline, pipeline_stage, stage_change,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{
    service::{activities, opportunities, pipelines},
    types::StageKind,
};
use platform::{attach_loaders, by_id, db::sql::first_per_parent, tx_loader};

use platform::{error::AppResult, graphql::batching::RequestSpawner, tenancy::TenantTx};

by_id!(ContactById, contact);
by_id!(CompanyById, company);
by_id!(PipelineById, pipeline);
by_id!(StageById, pipeline_stage);
by_id!(OpportunityById, opportunity);

tx_loader!(
    /// pipeline id -> its stages in board order.
    StagesByPipeline, Uuid => Vec<pipeline_stage::Model>, |conn, keys| {
        pipelines::stages_by_pipeline(conn, keys).await
    }
);

tx_loader!(
    /// (stage id, its kind, n, the edges' columns) -> the first n opportunities of the stage
    /// in board order, with their edges.
    FirstOpportunitiesPerStage, (Uuid, StageKind, u64, opportunities::CardColumns) => Vec<(opportunity::Model, Arc<opportunities::Edges>)>, |conn, keys| {
        let mut by_shape: HashMap<(u64, opportunities::CardColumns), Vec<(Uuid, StageKind)>> =
            HashMap::new();
        for (stage, kind, limit, columns) in keys {
            by_shape.entry((*limit, *columns)).or_default().push((*stage, *kind));
        }
        let mut loaded = HashMap::new();
        for ((limit, columns), stages) in by_shape {
            let mut rows = opportunities::first_per_stage(conn, &stages, limit, columns).await?;
            for (stage, kind) in stages {
                if let Some(rows) = rows.remove(&stage) {
                    loaded.insert((stage, kind, limit, columns), rows);
                }
            }
        }
        Ok(loaded)
    }
);

tx_loader!(
    /// stage id -> its count and value per currency.
    StageTotalsLoader, Uuid => opportunities::StageTotals, |conn, keys| {
        opportunities::stage_totals(conn, keys).await
    }
);

tx_loader!(
    /// opportunity id -> its latest activity.
    LatestActivity, Uuid => activity::Model, |conn, keys| {
        activities::latest_per_opportunity(conn, keys).await
    }
);

tx_loader!(
    /// opportunity id -> its stage changes, oldest first.
    StageHistory, Uuid => Vec<stage_change::Model>, |conn, keys| {
        let rows = stage_change::Entity::find()
            .filter(stage_change::Column::OpportunityId.is_in(keys.iter().copied()))
            .order_by_asc(stage_change::Column::Id)
            .all(conn)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<stage_change::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(row.opportunity_id).or_default().push(row);
        }
        Ok(grouped)
    }
);

tx_loader!(
    /// contact id -> its tags, sorted.
    TagsByContact, Uuid => Vec<String>, |conn, keys| {
        let rows = contact_tag::Entity::find()
            .filter(contact_tag::Column::ContactId.is_in(keys.iter().copied()))
            .order_by_asc(contact_tag::Column::ContactId)
            .order_by_asc(contact_tag::Column::Tag)
            .all(conn)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in rows {
            grouped.entry(row.contact_id).or_default().push(row.tag);
        }
        Ok(grouped)
    }
);

tx_loader!(
    /// (company id, n) -> its first n contacts.
    ContactsByCompany, (Uuid, u64) => Vec<contact::Model>, |conn, keys| {
        first_of_each::<contact::Entity, _>(conn, "contacts", "company_id", keys, |c| c.company_id).await
    }
);

tx_loader!(
    /// (company id, n) -> its first n opportunities.
    OpportunitiesByCompany, (Uuid, u64) => Vec<opportunity::Model>, |conn, keys| {
        first_of_each::<opportunity::Entity, _>(conn, "opportunities", "company_id", keys, |o| o.company_id).await
    }
);

tx_loader!(
    /// (contact id, n) -> its first n opportunities.
    OpportunitiesByContact, (Uuid, u64) => Vec<opportunity::Model>, |conn, keys| {
        first_of_each::<opportunity::Entity, _>(conn, "opportunities", "contact_id", keys, |o| o.contact_id).await
    }
);

/// The first n rows of `table` per parent id (in creation order), one statement per
/// distinct n. `table` and `parent` are names from this module, never input.
async fn first_of_each<E, C>(
    conn: &C,
    table: &str,
    parent: &str,
    keys: &[(Uuid, u64)],
    parent_of: impl Fn(&E::Model) -> Option<Uuid>,
) -> AppResult<HashMap<(Uuid, u64), Vec<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut by_limit: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (id, limit) in keys {
        by_limit.entry(*limit).or_default().push(*id);
    }
    let backend = conn.get_database_backend();
    let mut loaded: HashMap<(Uuid, u64), Vec<E::Model>> = HashMap::new();
    for (limit, ids) in by_limit {
        let statement = first_per_parent(backend, table, parent, "x.id", &ids, limit);
        let rows = E::find().from_raw_sql(statement).all(conn).await?;
        for id in &ids {
            loaded.entry((*id, limit)).or_default();
        }
        for row in rows {
            if let Some(parent) = parent_of(&row) {
                loaded.entry((parent, limit)).or_default().push(row);
            }
        }
    }
    Ok(loaded)
}

/// Puts the CRM's loaders on a request.
pub fn attach(request: Request, tx: &Arc<TenantTx>, spawner: &RequestSpawner) -> Request {
    attach_loaders!(
        request,
        tx,
        spawner,
        ContactById,
        CompanyById,
        PipelineById,
        StageById,
        OpportunityById,
        StagesByPipeline,
        FirstOpportunitiesPerStage,
        StageTotalsLoader,
        LatestActivity,
        StageHistory,
        TagsByContact,
        ContactsByCompany,
        OpportunitiesByCompany,
        OpportunitiesByContact
    )
}
