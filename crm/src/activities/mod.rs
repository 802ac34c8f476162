//! Activities: calls, emails, meetings, WhatsApp messages and tasks.

pub mod events;
pub mod schema;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::tenant::activity;
use platform::{
    auth::Principal,
    db::find_by_id,
    db::{
        keyset::{PageRequest, SortKey, fetch_page},
        sql::first_per_parent,
    },
    error::{AppError, AppResult},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use self::events::Activities;
use crate::{
    contacts,
    shared::{Patch, find_contact, find_opportunity},
    types::ActivityKind,
};
use platform::audit::{self, Audited, Restore};
use platform::db::filter::{between, equals, one_of};
use serde::Deserialize;

pub struct NewActivity {
    pub kind: ActivityKind,
    pub subject: String,
    pub body: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct ActivityFilter {
    pub kinds: Vec<ActivityKind>,
    /// Open tasks past their due time.
    pub overdue: Option<bool>,
    pub due_after: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub contact_id: Option<Uuid>,
    pub opportunity_id: Option<Uuid>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<activity::Model> {
    find_by_id::<activity::Entity, _>(conn, id, "activity").await
}

/// Logs an activity against a contact and/or an opportunity, and marks the contact (the
/// opportunity's, when only that is named) as just in touch. Tasks start open; other
/// kinds are logged as done.
pub async fn log<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewActivity,
) -> AppResult<activity::Model> {
    if new.contact_id.is_none() && new.opportunity_id.is_none() {
        return Err(AppError::bad_input(
            "contactId",
            "link the activity to a contact or an opportunity",
        ));
    }
    let mut touched_contact = None;
    if let Some(contact_id) = new.contact_id {
        touched_contact = Some(find_contact(conn, contact_id).await?.id);
    }
    if let Some(opportunity_id) = new.opportunity_id {
        let opportunity = find_opportunity(conn, opportunity_id).await?;
        touched_contact = touched_contact.or(opportunity.contact_id);
    }
    let now = Utc::now();
    let model = activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().into()),
        subject: Set(new.subject),
        body: Set(new.body),
        due_at: Set(new.due_at),
        completed_at: Set((new.kind != ActivityKind::Task).then_some(now)),
        contact_id: Set(new.contact_id),
        opportunity_id: Set(new.opportunity_id),
        author_id: Set(Some(actor.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    if let Some(contact_id) = touched_contact {
        contacts::touch(conn, contact_id, now).await?;
    }
    Activities::created(actor, model.id, &model)
        .record(conn)
        .await?;
    Ok(model)
}

/// Completes a task; completing it again changes nothing.
pub async fn complete_task<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
) -> AppResult<activity::Model> {
    let current = find(conn, id).await?;
    if current.kind != ActivityKind::Task.as_str() {
        return Err(AppError::bad_input("id", "only tasks are completed"));
    }
    if current.completed_at.is_some() {
        return Ok(current);
    }
    set_completed(conn, actor, current, Some(Utc::now()), None).await
}

pub(crate) async fn set_completed<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: activity::Model,
    completed_at: Option<DateTime<Utc>>,
    revert_of: Option<Uuid>,
) -> AppResult<activity::Model> {
    let row = activity::ActiveModel {
        id: Set(current.id),
        completed_at: Set(completed_at),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Activities::update(conn, actor, &current, row, revert_of).await
}

/// Restores what an audit entry replaced (today: whether a task was completed), as a revert
/// of it.
pub async fn revert<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    restore: Restore,
) -> AppResult<()> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Restored {
        completed_at: Patch<DateTime<Utc>>,
    }
    let restored: Restored = audit::restore(&restore.values)?;
    let current = find(conn, restore.entity_id).await?;
    let completed_at = match restored.completed_at {
        Patch::Keep => return Ok(()),
        patch => patch.apply(None),
    };
    set_completed(conn, actor, current, completed_at, Some(restore.entry_id)).await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find(conn, id).await?;
    Activities::delete(conn, actor, &current).await
}

pub(crate) fn condition(filter: &ActivityFilter) -> Condition {
    let overdue = filter.overdue.map(|overdue| {
        let now = Utc::now();
        if overdue {
            Condition::all()
                .add(activity::Column::Kind.eq(ActivityKind::Task.as_str()))
                .add(activity::Column::CompletedAt.is_null())
                .add(activity::Column::DueAt.lt(now))
        } else {
            Condition::any()
                .add(activity::Column::Kind.ne(ActivityKind::Task.as_str()))
                .add(activity::Column::CompletedAt.is_not_null())
                .add(activity::Column::DueAt.is_null())
                .add(activity::Column::DueAt.gte(now))
        }
    });
    Condition::all()
        .add_option(one_of(
            activity::Column::Kind,
            filter.kinds.iter().map(|k| k.as_str()),
        ))
        .add_option(overdue)
        .add_option(between(
            activity::Column::DueAt,
            filter.due_after,
            filter.due_before,
        ))
        .add_option(equals(activity::Column::ContactId, filter.contact_id))
        .add_option(equals(
            activity::Column::OpportunityId,
            filter.opportunity_id,
        ))
}

/// Activities, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &ActivityFilter,
    page: &PageRequest,
) -> AppResult<Vec<activity::Model>> {
    let select = activity::Entity::find().filter(condition(filter));
    fetch_page(conn, select, page, SortKey::Id, activity::Column::Id, true).await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &ActivityFilter) -> AppResult<u64> {
    Ok(activity::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}

/// The latest activity of each opportunity, in one statement.
pub async fn latest_per_opportunity<C: ConnectionTrait>(
    conn: &C,
    opportunity_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, activity::Model>> {
    if opportunity_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = first_per_parent(
        conn.get_database_backend(),
        "activities",
        "opportunity_id",
        "x.id DESC",
        opportunity_ids,
        1,
    );
    let rows = activity::Entity::find()
        .from_raw_sql(statement)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|a| a.opportunity_id.map(|id| (id, a)))
        .collect())
}
