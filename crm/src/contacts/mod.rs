//! Contacts: leads and customers, their tags and custom fields.

pub mod events;
pub mod loader;
pub mod schema;

use chrono::{DateTime, Utc};
use entity::tenant::{contact, contact_tag};
use platform::{
    auth::Principal,
    db::keyset::{PageRequest, SortKey, fetch_page},
    domain::{Email, PhoneE164},
    error::{AppError, AppResult, on_unique_violation},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, Set, sea_query::Expr,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use self::events::Contacts;
use crate::{
    shared::{Patch, ensure_company, ensure_user, find_contact, optional_text, required_text},
    types::{ContactSource, ContactStatus},
};
use platform::audit::{self, Audited, Snapshot};
use platform::db::filter::{between, contains, equals, one_of};
use serde::Deserialize;

pub(crate) const MAX_TAGS: usize = 20;

pub(crate) const MAX_TAG_CHARS: usize = 64;

pub(crate) const MAX_CUSTOM_FIELDS: usize = 50;

pub(crate) const MAX_CUSTOM_FIELDS_BYTES: usize = 16 * 1024;

pub struct NewContact {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
    pub company_id: Option<Uuid>,
    /// `None`: the creator.
    pub owner_id: Option<Uuid>,
    pub source: ContactSource,
    pub status: ContactStatus,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
}

/// Read from a stored snapshot by stored field names when an update is reverted.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ContactChanges {
    pub first_name: Option<String>,
    pub last_name: Patch<String>,
    pub email: Patch<Email>,
    pub phone: Patch<PhoneE164>,
    pub company_id: Patch<Uuid>,
    pub owner_id: Patch<Uuid>,
    pub source: Option<ContactSource>,
    pub status: Option<ContactStatus>,
    pub tags: Option<Vec<String>>,
    /// Replaces the whole object.
    pub custom_fields: Option<Map<String, Value>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum ContactOrderField {
    /// Creation order (the default).
    CreatedAt,
    UpdatedAt,
    /// Last name, then first name.
    Name,
}

#[derive(Clone, Debug, Default)]
pub struct ContactFilter {
    pub statuses: Vec<ContactStatus>,
    pub owner_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub tag: Option<String>,
    pub sources: Vec<ContactSource>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub search: Option<String>,
    /// No activity (or, never active, not created) since this time.
    pub inactive_since: Option<DateTime<Utc>>,
}

/// Tags as given, trimmed, lowercased and without repeats. The list and each tag are
/// bounded before any work proportional to them: a request can carry a megabyte of tags.
pub fn parse_tags(raw: Vec<String>) -> AppResult<Vec<String>> {
    // Repeats are forgiven, within reason.
    if raw.len() > 2 * MAX_TAGS {
        return Err(AppError::bad_input(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(raw.len().min(MAX_TAGS));
    for tag in raw {
        // 64 characters are at most 256 bytes in UTF-8.
        if tag.len() > 4 * MAX_TAG_CHARS + 64 {
            return Err(AppError::bad_input("tags", "a tag has 1 to 64 characters"));
        }
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(AppError::bad_input("tags", "a tag has 1 to 64 characters"));
        }
        if !tags.contains(&tag) {
            if tags.len() == MAX_TAGS {
                return Err(AppError::bad_input(
                    "tags",
                    format!("at most {MAX_TAGS} tags"),
                ));
            }
            tags.push(tag);
        }
    }
    Ok(tags)
}

pub fn parse_custom_fields(raw: Value) -> AppResult<Map<String, Value>> {
    let Value::Object(map) = raw else {
        return Err(AppError::bad_input(
            "customFields",
            "custom fields must be a JSON object",
        ));
    };
    if map.len() > MAX_CUSTOM_FIELDS {
        return Err(AppError::bad_input(
            "customFields",
            format!("at most {MAX_CUSTOM_FIELDS} custom fields"),
        ));
    }
    if map
        .keys()
        .any(|k| k.trim().is_empty() || k.chars().count() > 64)
    {
        return Err(AppError::bad_input(
            "customFields",
            "a custom field name has 1 to 64 characters",
        ));
    }
    if serde_json::to_vec(&map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        > MAX_CUSTOM_FIELDS_BYTES
    {
        return Err(AppError::bad_input(
            "customFields",
            "custom fields take at most 16 KiB",
        ));
    }
    Ok(map)
}

pub fn parse_first_name(raw: &str) -> AppResult<String> {
    required_text(raw, "firstName", 200)
}

pub fn parse_last_name(raw: Option<&str>) -> AppResult<Option<String>> {
    optional_text(raw, "lastName", 200)
}

pub(crate) fn name_key(first: &str, last: Option<&str>) -> String {
    format!("{} {}", last.unwrap_or(""), first)
        .trim()
        .to_lowercase()
}

pub(crate) fn search_text(
    first: &str,
    last: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> String {
    [Some(first), last, email, phone]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub async fn tags_of<C: ConnectionTrait>(conn: &C, contact_id: Uuid) -> AppResult<Vec<String>> {
    let mut tags: Vec<String> = contact_tag::Entity::find()
        .filter(contact_tag::Column::ContactId.eq(contact_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    tags.sort();
    Ok(tags)
}

pub(crate) async fn replace_tags<C: ConnectionTrait>(
    conn: &C,
    contact_id: Uuid,
    tags: &[String],
) -> AppResult<()> {
    contact_tag::Entity::delete_many()
        .filter(contact_tag::Column::ContactId.eq(contact_id))
        .exec(conn)
        .await?;
    if !tags.is_empty() {
        contact_tag::Entity::insert_many(tags.iter().map(|tag| contact_tag::ActiveModel {
            contact_id: Set(contact_id),
            tag: Set(tag.clone()),
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// The audit snapshot of a contact: its columns and its tags.
pub fn contact_snapshot(model: &contact::Model, tags: &[String]) -> Snapshot {
    let mut snapshot = audit::snapshot(model);
    let mut sorted = tags.to_vec();
    sorted.sort();
    snapshot.insert("tags".into(), Value::from(sorted));
    snapshot
}

pub(crate) fn email_taken(email: &Email) -> AppError {
    AppError::BadUserInput {
        field: "email".into(),
        message: format!("another contact already has the email {email}"),
    }
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewContact,
) -> AppResult<contact::Model> {
    if let Some(company_id) = new.company_id {
        ensure_company(conn, company_id).await?;
    }
    let owner_id = new.owner_id.unwrap_or(actor.user_id);
    ensure_user(conn, owner_id).await?;
    let now = Utc::now();
    let email = new.email.as_ref().map(|e| e.as_str().to_owned());
    let phone = new.phone.as_ref().map(|p| p.as_str().to_owned());
    let model = contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(name_key(&new.first_name, new.last_name.as_deref())),
        search_text: Set(search_text(
            &new.first_name,
            new.last_name.as_deref(),
            email.as_deref(),
            phone.as_deref(),
        )),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        email: Set(email),
        phone: Set(phone),
        company_id: Set(new.company_id),
        owner_id: Set(Some(owner_id)),
        source: Set(new.source.as_str().into()),
        status: Set(new.status.as_str().into()),
        custom_fields: Set(Value::Object(new.custom_fields)),
        last_activity_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| {
        on_unique_violation(e, || {
            new.email
                .as_ref()
                .map(email_taken)
                .unwrap_or_else(|| AppError::Conflict("duplicate contact".into()))
        })
    })?;
    replace_tags(conn, model.id, &new.tags).await?;
    let after = contact_snapshot(&model, &new.tags);
    Contacts::created(actor, model.id, &after)
        .record(conn)
        .await?;
    Ok(model)
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: ContactChanges,
    revert_of: Option<Uuid>,
) -> AppResult<contact::Model> {
    let current = find_contact(conn, id).await?;
    let current_tags = tags_of(conn, id).await?;
    if let Patch::Set(company_id) = changes.company_id {
        ensure_company(conn, company_id).await?;
    }
    if let Patch::Set(owner_id) = changes.owner_id {
        ensure_user(conn, owner_id).await?;
    }
    let before = contact_snapshot(&current, &current_tags);
    let taken = match &changes.email {
        Patch::Set(email) => Some(email_taken(email)),
        _ => None,
    };
    let first_name = changes
        .first_name
        .unwrap_or_else(|| current.first_name.clone());
    let last_name = changes.last_name.apply(current.last_name.clone());
    let email = changes
        .email
        .try_map(|e| Ok(e.as_str().to_owned()))?
        .apply(current.email.clone());
    let phone = changes
        .phone
        .try_map(|p| Ok(p.as_str().to_owned()))?
        .apply(current.phone.clone());
    let model = contact::ActiveModel {
        id: Set(current.id),
        name_key: Set(name_key(&first_name, last_name.as_deref())),
        search_text: Set(search_text(
            &first_name,
            last_name.as_deref(),
            email.as_deref(),
            phone.as_deref(),
        )),
        first_name: Set(first_name),
        last_name: Set(last_name),
        email: Set(email),
        phone: Set(phone),
        company_id: Set(changes.company_id.apply(current.company_id)),
        owner_id: Set(changes.owner_id.apply(current.owner_id)),
        source: Set(changes
            .source
            .map(|s| s.as_str().to_owned())
            .unwrap_or(current.source.clone())),
        status: Set(changes
            .status
            .map(|s| s.as_str().to_owned())
            .unwrap_or(current.status.clone())),
        custom_fields: Set(changes
            .custom_fields
            .map(Value::Object)
            .unwrap_or(current.custom_fields.clone())),
        last_activity_at: Set(current.last_activity_at),
        created_at: Set(current.created_at),
        updated_at: Set(Utc::now()),
    }
    .update(conn)
    .await
    .map_err(|e| {
        on_unique_violation(e, || {
            taken.unwrap_or_else(|| AppError::Conflict("duplicate contact".into()))
        })
    })?;
    let tags = match changes.tags {
        Some(tags) => {
            replace_tags(conn, id, &tags).await?;
            tags
        }
        None => current_tags,
    };
    let after = contact_snapshot(&model, &tags);
    Contacts::updated(actor, id, &before, &after, revert_of)
        .record(conn)
        .await?;
    Ok(model)
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_contact(conn, id).await?;
    let tags = tags_of(conn, id).await?;
    let before = contact_snapshot(&current, &tags);
    contact::Entity::delete_by_id(id).exec(conn).await?;
    Contacts::deleted(actor, id, &before).record(conn).await
}

pub(crate) fn condition(filter: &ContactFilter) -> Condition {
    let tagged = filter.tag.as_ref().map(|tag| {
        contact::Column::Id.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(contact_tag::Column::ContactId)
                .from(contact_tag::Entity)
                .and_where(contact_tag::Column::Tag.eq(tag.trim().to_lowercase()))
                .to_owned(),
        )
    });
    let inactive = filter.inactive_since.map(|since| {
        Condition::any()
            .add(contact::Column::LastActivityAt.lt(since))
            .add(
                Condition::all()
                    .add(contact::Column::LastActivityAt.is_null())
                    .add(contact::Column::CreatedAt.lt(since)),
            )
    });
    Condition::all()
        .add_option(one_of(
            contact::Column::Status,
            filter.statuses.iter().map(|s| s.as_str()),
        ))
        .add_option(one_of(
            contact::Column::Source,
            filter.sources.iter().map(|s| s.as_str()),
        ))
        .add_option(equals(contact::Column::OwnerId, filter.owner_id))
        .add_option(equals(contact::Column::CompanyId, filter.company_id))
        .add_option(tagged)
        .add_option(between(
            contact::Column::CreatedAt,
            filter.created_after,
            filter.created_before,
        ))
        .add_option(between(
            contact::Column::UpdatedAt,
            filter.updated_after,
            filter.updated_before,
        ))
        .add_option(contains(
            Expr::col(contact::Column::SearchText),
            filter.search.as_deref(),
        ))
        .add_option(inactive)
}

pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &ContactFilter,
    order: ContactOrderField,
    descending: bool,
    page: &PageRequest,
) -> AppResult<Vec<contact::Model>> {
    let select = contact::Entity::find().filter(condition(filter));
    let key = match order {
        ContactOrderField::CreatedAt => SortKey::Id,
        ContactOrderField::UpdatedAt => SortKey::Timestamp(contact::Column::UpdatedAt),
        ContactOrderField::Name => SortKey::Text(contact::Column::NameKey),
    };
    fetch_page(conn, select, page, key, contact::Column::Id, descending).await
}

/// The cursor key of a contact in an ordering.
pub fn sort_key(model: &contact::Model, order: ContactOrderField) -> Option<Value> {
    match order {
        ContactOrderField::CreatedAt => None,
        ContactOrderField::UpdatedAt => Some(Value::from(
            model
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        )),
        ContactOrderField::Name => Some(Value::from(model.name_key.clone())),
    }
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &ContactFilter) -> AppResult<u64> {
    Ok(contact::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}

/// Marks that the contact was just in touch.
pub async fn touch<C: ConnectionTrait>(
    conn: &C,
    contact_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<()> {
    contact::Entity::update_many()
        .col_expr(contact::Column::LastActivityAt, Expr::value(at))
        .filter(contact::Column::Id.eq(contact_id))
        .exec(conn)
        .await?;
    Ok(())
}
