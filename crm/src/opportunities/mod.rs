//! Opportunities: created, updated, won, lost, deleted and reverted.

pub mod events;
pub mod loader;
pub mod placement;
pub mod schema;

use chrono::{NaiveDate, Utc};
use entity::tenant::{opportunity, stage_change};
use platform::{
    auth::Principal,
    db::keyset::{PageRequest, SortKey, fetch_page},
    domain::Money,
    error::AppResult,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
    sea_query::{Expr, Func},
};
use uuid::Uuid;

use self::events::Opportunities;
use crate::{
    opportunities::placement::{initial_stage, move_to, place, record_stage_change, stage_size},
    pipelines,
    shared::{Patch, ensure_company, ensure_user, find_contact, find_opportunity},
    types::{OpportunityStatus, StageKind},
};
use platform::audit::{self, Audited, Restore};
use platform::db::filter::{contains, equals, one_of};
use serde::Deserialize;

pub struct NewOpportunity {
    pub title: String,
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// `None`: the creator.
    pub owner_id: Option<Uuid>,
    pub value: Money,
    pub expected_close_date: Option<NaiveDate>,
}

#[derive(Default)]
pub struct OpportunityChanges {
    pub title: Option<String>,
    pub contact_id: Patch<Uuid>,
    pub company_id: Patch<Uuid>,
    pub owner_id: Patch<Uuid>,
    pub value: Option<Money>,
    pub expected_close_date: Patch<NaiveDate>,
}

#[derive(Clone, Debug, Default)]
pub struct OpportunityFilter {
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub statuses: Vec<OpportunityStatus>,
    pub owner_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// Part of the title.
    pub search: Option<String>,
}

pub(crate) async fn check_references<C: ConnectionTrait>(
    conn: &C,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    owner_id: Option<Uuid>,
) -> AppResult<()> {
    if let Some(contact_id) = contact_id {
        find_contact(conn, contact_id).await?;
    }
    if let Some(company_id) = company_id {
        ensure_company(conn, company_id).await?;
    }
    if let Some(owner_id) = owner_id {
        ensure_user(conn, owner_id).await?;
    }
    Ok(())
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewOpportunity,
) -> AppResult<opportunity::Model> {
    let stage = initial_stage(conn, new.pipeline_id, new.stage_id).await?;
    let owner_id = new.owner_id.unwrap_or(actor.user_id);
    check_references(conn, new.contact_id, new.company_id, Some(owner_id)).await?;
    pipelines::lock(conn, stage.pipeline_id).await?;
    let kind = StageKind::from_stored(&stage.kind)?;
    let status = OpportunityStatus::from(kind);
    let now = Utc::now();
    let model = opportunity::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(new.title),
        contact_id: Set(new.contact_id),
        company_id: Set(new.company_id),
        owner_id: Set(Some(owner_id)),
        pipeline_id: Set(stage.pipeline_id),
        stage_id: Set(stage.id),
        value_amount: Set(new.value.minor()),
        currency: Set(new.value.currency_code().to_owned()),
        expected_close_date: Set(new.expected_close_date),
        status: Set(status.as_str().into()),
        lost_reason: Set(None),
        stage_entered_at: Set(now),
        position: Set(stage_size(conn, stage.id, None).await?),
        closed_at: Set((status != OpportunityStatus::Open).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    record_stage_change(conn, actor, model.id, None, stage.id).await?;
    Opportunities::created(actor, model.id, &model)
        .record(conn)
        .await?;
    Ok(model)
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: OpportunityChanges,
    revert_of: Option<Uuid>,
) -> AppResult<opportunity::Model> {
    let current = find_opportunity(conn, id).await?;
    let set = |p: &Patch<Uuid>| match p {
        Patch::Set(v) => Some(*v),
        _ => None,
    };
    check_references(
        conn,
        set(&changes.contact_id),
        set(&changes.company_id),
        set(&changes.owner_id),
    )
    .await?;
    let (value_amount, currency) = match changes.value {
        Some(money) => (money.minor(), money.currency_code().to_owned()),
        None => (current.value_amount, current.currency.clone()),
    };
    let row = opportunity::ActiveModel {
        id: Set(id),
        title: Set(changes.title.unwrap_or(current.title.clone())),
        contact_id: Set(changes.contact_id.apply(current.contact_id)),
        company_id: Set(changes.company_id.apply(current.company_id)),
        owner_id: Set(changes.owner_id.apply(current.owner_id)),
        value_amount: Set(value_amount),
        currency: Set(currency),
        expected_close_date: Set(changes
            .expected_close_date
            .apply(current.expected_close_date)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Opportunities::update(conn, actor, &current, row, revert_of).await
}

/// Closes an opportunity as won or lost: it moves to the pipeline's first stage of that
/// kind, or keeps its stage with the new status when the pipeline has none.
pub async fn close<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    outcome: StageKind,
    lost_reason: Option<String>,
) -> AppResult<opportunity::Model> {
    let current = find_opportunity(conn, id).await?;
    pipelines::lock(conn, current.pipeline_id).await?;
    let current = find_opportunity(conn, id).await?;
    let stages = pipelines::stages_of(conn, current.pipeline_id).await?;
    let target = stages.iter().find(|s| s.kind == outcome.as_str());
    match target {
        Some(stage) if stage.id == current.stage_id => {
            place(
                conn,
                actor,
                current.clone(),
                stage,
                Some(current.position),
                lost_reason,
            )
            .await
        }
        Some(stage) => place(conn, actor, current, stage, None, lost_reason).await,
        None => {
            let status = OpportunityStatus::from(outcome);
            let row = opportunity::ActiveModel {
                id: Set(id),
                status: Set(status.as_str().into()),
                closed_at: Set(Some(Utc::now())),
                lost_reason: Set(lost_reason),
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            Opportunities::update(conn, actor, &current, row, None).await
        }
    }
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_opportunity(conn, id).await?;
    pipelines::lock(conn, current.pipeline_id).await?;
    let current = find_opportunity(conn, id).await?;
    opportunity::Entity::delete_by_id(id).exec(conn).await?;
    placement::shift(conn, current.stage_id, current.position + 1, -1, None).await?;
    Opportunities::deleted(actor, id, &current)
        .record(conn)
        .await
}

/// Restores the values an audit entry replaced, as a revert of it: fields by update, stage
/// and position by a move (so positions and stage history stay right).
pub async fn revert<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    restore: Restore,
) -> AppResult<()> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Restored {
        title: Option<String>,
        contact_id: Patch<Uuid>,
        company_id: Patch<Uuid>,
        owner_id: Patch<Uuid>,
        expected_close_date: Patch<NaiveDate>,
        value_amount: Option<i64>,
        currency: Option<String>,
        stage_id: Option<Uuid>,
        position: Option<i64>,
    }
    let Restore {
        entity_id: id,
        values,
        entry_id,
    } = restore;
    let restored: Restored = audit::restore(&values)?;
    let current = find_opportunity(conn, id).await?;
    let value = match (restored.value_amount, restored.currency) {
        (None, None) => None,
        (amount, currency) => Some(Money::from_stored(
            amount.unwrap_or(current.value_amount),
            currency.as_deref().unwrap_or(&current.currency),
        )?),
    };
    let changes = OpportunityChanges {
        title: restored.title,
        contact_id: restored.contact_id,
        company_id: restored.company_id,
        owner_id: restored.owner_id,
        value,
        expected_close_date: restored.expected_close_date,
    };
    let model = update(conn, actor, id, changes, Some(entry_id)).await?;
    if restored.stage_id.is_some() || restored.position.is_some() {
        let stage_id = restored.stage_id.unwrap_or(model.stage_id);
        move_to(conn, actor, id, stage_id, restored.position).await?;
    }
    Ok(())
}

pub async fn stage_history<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<Vec<stage_change::Model>> {
    Ok(stage_change::Entity::find()
        .filter(stage_change::Column::OpportunityId.eq(id))
        .order_by_asc(stage_change::Column::Id)
        .all(conn)
        .await?)
}

pub(crate) fn condition(filter: &OpportunityFilter) -> Condition {
    let title = Func::lower(Expr::col(opportunity::Column::Title));
    Condition::all()
        .add_option(equals(opportunity::Column::PipelineId, filter.pipeline_id))
        .add_option(equals(opportunity::Column::StageId, filter.stage_id))
        .add_option(one_of(
            opportunity::Column::Status,
            filter.statuses.iter().map(|s| s.as_str()),
        ))
        .add_option(equals(opportunity::Column::OwnerId, filter.owner_id))
        .add_option(equals(opportunity::Column::ContactId, filter.contact_id))
        .add_option(equals(opportunity::Column::CompanyId, filter.company_id))
        .add_option(contains(title, filter.search.as_deref()))
}

/// Opportunities in creation order.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &OpportunityFilter,
    page: &PageRequest,
) -> AppResult<Vec<opportunity::Model>> {
    let select = opportunity::Entity::find().filter(condition(filter));
    fetch_page(
        conn,
        select,
        page,
        SortKey::Id,
        opportunity::Column::Id,
        false,
    )
    .await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &OpportunityFilter) -> AppResult<u64> {
    Ok(opportunity::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}

/// `amount` x `probability` %, rounded half up to the minor unit.
pub fn weighted(amount: i64, probability: i16) -> i64 {
    ((i128::from(amount) * i128::from(probability) + 50) / 100) as i64
}
