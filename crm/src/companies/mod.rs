//! Companies and their contacts.

pub mod events;
pub mod loader;
pub mod schema;

use chrono::Utc;
use entity::tenant::company;
use platform::{
    auth::Principal,
    db::find_by_id,
    db::keyset::{PageRequest, SortKey, fetch_page},
    error::AppResult,
};
use sea_orm::{
    Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use self::events::Companies;
use crate::{
    shared::{Patch, ensure_user},
    types::CompanySize,
};
use platform::audit::Audited;
use platform::db::filter::{contains, equals};
use serde::Deserialize;

pub struct NewCompany {
    pub name: String,
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub size: Option<CompanySize>,
    pub address: Option<Value>,
    /// `None`: the creator.
    pub owner_id: Option<Uuid>,
}

/// Read from a stored snapshot by stored field names when an update is reverted.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CompanyChanges {
    pub name: Option<String>,
    pub domain: Patch<String>,
    pub industry: Patch<String>,
    pub size: Patch<CompanySize>,
    pub address: Patch<Value>,
    pub owner_id: Patch<Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct CompanyFilter {
    pub search: Option<String>,
    pub owner_id: Option<Uuid>,
    pub industry: Option<String>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<company::Model> {
    find_by_id::<company::Entity, _>(conn, id, "company").await
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewCompany,
) -> AppResult<company::Model> {
    let owner_id = new.owner_id.unwrap_or(actor.user_id);
    ensure_user(conn, owner_id).await?;
    let now = Utc::now();
    let row = company::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(new.name.to_lowercase()),
        name: Set(new.name),
        domain: Set(new.domain),
        industry: Set(new.industry),
        size: Set(new.size.map(|s| s.as_str().to_owned())),
        address: Set(new.address),
        owner_id: Set(Some(owner_id)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Companies::insert(conn, actor, row).await
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: CompanyChanges,
    revert_of: Option<Uuid>,
) -> AppResult<company::Model> {
    let current = find(conn, id).await?;
    if let Patch::Set(owner_id) = changes.owner_id {
        ensure_user(conn, owner_id).await?;
    }
    let name = changes.name.unwrap_or_else(|| current.name.clone());
    let row = company::ActiveModel {
        id: Set(id),
        name_key: Set(name.to_lowercase()),
        name: Set(name),
        domain: Set(changes.domain.apply(current.domain.clone())),
        industry: Set(changes.industry.apply(current.industry.clone())),
        size: Set(changes
            .size
            .try_map(|s| Ok(s.as_str().to_owned()))?
            .apply(current.size.clone())),
        address: Set(changes.address.apply(current.address.clone())),
        owner_id: Set(changes.owner_id.apply(current.owner_id)),
        created_at: Set(current.created_at),
        updated_at: Set(Utc::now()),
    };
    Companies::update(conn, actor, &current, row, revert_of).await
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find(conn, id).await?;
    Companies::delete(conn, actor, &current).await
}

pub(crate) fn condition(filter: &CompanyFilter) -> Condition {
    Condition::all()
        .add_option(equals(company::Column::OwnerId, filter.owner_id))
        .add_option(equals(
            company::Column::Industry,
            filter.industry.as_deref().map(str::trim),
        ))
        .add_option(contains(
            Expr::col(company::Column::NameKey),
            filter.search.as_deref(),
        ))
}

/// Companies by name.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &CompanyFilter,
    page: &PageRequest,
) -> AppResult<Vec<company::Model>> {
    let select = company::Entity::find().filter(condition(filter));
    fetch_page(
        conn,
        select,
        page,
        SortKey::Text(company::Column::NameKey),
        company::Column::Id,
        false,
    )
    .await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &CompanyFilter) -> AppResult<u64> {
    Ok(company::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}
