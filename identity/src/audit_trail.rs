//! The audit trail over GraphQL, for every vertical's audited entities: an entity's history,
//! and the revert of an update, which its vertical performs (`Verticals::audited`).

use async_graphql::{ComplexObject, Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::tenant::audit_entry;
use platform::{
    audit::{self, AuditAction, AuditEntityType, Restore},
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt,
        pagination::{
            Cursor, Page, PageConnection, PageRequest, SortKey, fetch_page, total_if_asked,
        },
    },
    id, parse_id,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::schema::{UserNode, user};

/// One field's value before and after a change. Values are as stored: amounts in minor
/// units (`valueAmount`), enumerations in lowercase, ids and timestamps as strings.
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    pub before: Json<serde_json::Value>,
    pub after: Json<serde_json::Value>,
}

#[derive(SimpleObject)]
#[graphql(complex, name = "AuditEntry")]
pub struct AuditEntryNode {
    pub id: ID,
    pub entity_type: AuditEntityType,
    pub entity_id: ID,
    pub action: AuditAction,
    pub at: DateTime<Utc>,
    /// The changed fields (all of them for a create or a delete).
    pub changes: Vec<FieldChange>,
    /// For a revert: the entry it undid.
    pub revert_of: Option<ID>,
    #[graphql(skip)]
    pub actor_id: Option<uuid::Uuid>,
}

#[ComplexObject]
impl AuditEntryNode {
    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.actor_id).await
    }
}

impl TryFrom<audit_entry::Model> for AuditEntryNode {
    type Error = AppError;

    fn try_from(model: audit_entry::Model) -> AppResult<Self> {
        let changes = model
            .changes
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .map(|(field, change)| FieldChange {
                        field: audit::camel_case(field),
                        before: Json(change["before"].clone()),
                        after: Json(change["after"].clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            id: id(model.id),
            entity_type: AuditEntityType::from_stored(&model.entity_type)?,
            entity_id: id(model.entity_id),
            action: AuditAction::from_stored(&model.action)?,
            at: model.at,
            changes,
            revert_of: model.revert_of.map(id),
            actor_id: model.actor_id,
        })
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail of one contact, company, opportunity, activity, pipeline or stage,
    /// oldest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        entity_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Page<AuditEntryNode>> {
        let entity_id = parse_id(&entity_id, "entityId")?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let select =
            audit_entry::Entity::find().filter(audit_entry::Column::EntityId.eq(entity_id));
        let rows = fetch_page(
            conn,
            select.clone(),
            &page,
            SortKey::Id,
            audit_entry::Column::Id,
            false,
        )
        .await?;
        let total = total_if_asked(ctx, async { Ok(select.count(conn).await?) }).await?;
        Ok(page.connection(rows, |e| Cursor::id(e.id), AuditEntryNode::try_from, total)?)
    }
}

#[derive(Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Restores the values an update replaced; the revert is itself audited. Creates and
    /// deletes cannot be reverted (`BAD_USER_INPUT`).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn revert(&self, ctx: &Context<'_>, audit_entry_id: ID) -> GqlResult<AuditEntryNode> {
        let entry_id = parse_id(&audit_entry_id, "auditEntryId")?;
        let conn = ctx.conn().await?;
        let principal = ctx.principal()?;
        let entry = audit_entry::Entity::find_by_id(entry_id)
            .one(conn)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound("audit entry"))?;
        let action = AuditAction::from_stored(&entry.action)?;
        if !matches!(action, AuditAction::Update | AuditAction::Revert) {
            return Err(AppError::bad_input("auditEntryId", "only updates can be reverted").into());
        }
        let entity_type = AuditEntityType::from_stored(&entry.entity_type)?;
        let revertible = ctx
            .app()?
            .verticals
            .revertible(entity_type)
            .ok_or_else(|| AppError::bad_input("auditEntryId", "this entry cannot be reverted"))?;
        if !principal.role.at_least(revertible.min_role) {
            return Err(AppError::Forbidden(format!(
                "reverting a change to a {} needs the {} role or above",
                entity_type.as_str(),
                revertible.min_role.as_str()
            ))
            .into());
        }
        let id = entry.entity_id;
        let restore = Restore {
            entity_id: id,
            values: audit::values_before(&entry),
            entry_id,
        };
        (revertible.revert)(conn, principal, restore).await?;
        let latest = audit::latest_for(conn, id)
            .await?
            .ok_or(AppError::NotFound("audit entry"))?;
        Ok(AuditEntryNode::try_from(latest)?)
    }
}
