//! Contacts over GraphQL.

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object};
use chrono::{DateTime, Duration, Utc};
use entity::tenant::contact;
use identity::schema::UserNode;
use platform::{
    auth::{Role, RoleGuard},
    domain::{Email, PhoneE164},
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt, load_one,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};

use crate::{
    companies::{loader::CompanyById, schema::CompanyNode},
    contacts::{
        self, ContactChanges, ContactFilter, ContactOrderField, NewContact,
        loader::{OpportunitiesByContact, TagsByContact},
    },
    opportunities::schema::OpportunityNode,
    shared::{SortDirection, edge_limit, find_contact, id, opt_id, patch_id, patch_text, user},
    types::{ContactSource, ContactStatus},
};

#[derive(InputObject, Default)]
pub struct ContactFilterInput {
    pub status: Option<Vec<ContactStatus>>,
    pub source: Option<Vec<ContactSource>>,
    pub owner_id: Option<ID>,
    /// Only the caller's contacts.
    pub mine: Option<bool>,
    pub company_id: Option<ID>,
    pub tag: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// Part of the name, email or phone.
    pub search: Option<String>,
}

impl ContactFilterInput {
    pub fn parse(self, caller: uuid::Uuid) -> AppResult<ContactFilter> {
        let owner_id = match (self.mine, opt_id(self.owner_id.as_ref(), "ownerId")?) {
            (Some(true), Some(other)) if other != caller => {
                return Err(AppError::bad_input(
                    "mine",
                    "give mine or ownerId, not both",
                ));
            }
            (Some(true), _) => Some(caller),
            (_, owner) => owner,
        };
        Ok(ContactFilter {
            statuses: self.status.unwrap_or_default(),
            sources: self.source.unwrap_or_default(),
            owner_id,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            tag: self.tag,
            created_after: self.created_after,
            created_before: self.created_before,
            updated_after: self.updated_after,
            updated_before: self.updated_before,
            search: self.search,
            inactive_since: None,
        })
    }
}

#[derive(InputObject)]
pub struct ContactOrder {
    #[graphql(default_with = "ContactOrderField::CreatedAt")]
    pub field: ContactOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(InputObject)]
pub struct CreateContactInput {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// With its country code; stored as E.164.
    pub phone: Option<String>,
    pub company_id: Option<ID>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
    #[graphql(default_with = "ContactSource::Other")]
    pub source: ContactSource,
    #[graphql(default_with = "ContactStatus::New")]
    pub status: ContactStatus,
    #[graphql(default)]
    pub tags: Vec<String>,
    /// A JSON object of tenant-defined keys.
    pub custom_fields: Option<Json<serde_json::Value>>,
}

impl CreateContactInput {
    pub fn parse(self) -> AppResult<NewContact> {
        Ok(NewContact {
            first_name: contacts::parse_first_name(&self.first_name)?,
            last_name: contacts::parse_last_name(self.last_name.as_deref())?,
            email: self
                .email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| Email::parse(e, "email"))
                .transpose()?,
            phone: self
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| PhoneE164::parse(p, "phone"))
                .transpose()?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            source: self.source,
            status: self.status,
            tags: contacts::parse_tags(self.tags)?,
            custom_fields: match self.custom_fields {
                Some(Json(value)) => contacts::parse_custom_fields(value)?,
                None => Default::default(),
            },
        })
    }
}

/// Fields left out stay as they are; `null` clears an optional field.
#[derive(InputObject, Default)]
pub struct UpdateContactInput {
    pub first_name: Option<String>,
    pub last_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
    pub company_id: MaybeUndefined<ID>,
    pub owner_id: MaybeUndefined<ID>,
    pub source: Option<ContactSource>,
    pub status: Option<ContactStatus>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Replaces the custom fields.
    pub custom_fields: Option<Json<serde_json::Value>>,
}

impl UpdateContactInput {
    pub fn parse(self) -> AppResult<ContactChanges> {
        Ok(ContactChanges {
            first_name: self
                .first_name
                .as_deref()
                .map(contacts::parse_first_name)
                .transpose()?,
            last_name: patch_text(self.last_name, "lastName", 200)?,
            email: patch_text(self.email, "email", 254)?.try_map(|e| Email::parse(&e, "email"))?,
            phone: patch_text(self.phone, "phone", 40)?
                .try_map(|p| PhoneE164::parse(&p, "phone"))?,
            company_id: patch_id(self.company_id, "companyId")?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
            source: self.source,
            status: self.status,
            tags: self.tags.map(contacts::parse_tags).transpose()?,
            custom_fields: self
                .custom_fields
                .map(|Json(v)| contacts::parse_custom_fields(v))
                .transpose()?,
        })
    }
}

pub struct ContactNode(pub contact::Model);

impl ContactNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("firstName", &["first_name"]),
        ("lastName", &["last_name"]),
        ("fullName", &["first_name", "last_name"]),
        ("email", &["email"]),
        ("phone", &["phone"]),
        ("source", &["source"]),
        ("status", &["status"]),
        ("tags", &[]),
        ("customFields", &["custom_fields"]),
        ("company", &["company_id"]),
        ("owner", &["owner_id"]),
        ("opportunities", &[]),
        ("lastActivityAt", &["last_activity_at"]),
        ("createdAt", &["created_at"]),
        ("updatedAt", &["updated_at"]),
    ];
}

/// A person: a lead or a customer.
#[Object(name = "Contact", serial)]
impl ContactNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn full_name(&self) -> String {
        match &self.0.last_name {
            Some(last) => format!("{} {last}", self.0.first_name),
            None => self.0.first_name.clone(),
        }
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// E.164.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn source(&self) -> GqlResult<ContactSource> {
        Ok(ContactSource::from_stored(&self.0.source)?)
    }
    async fn status(&self) -> GqlResult<ContactStatus> {
        Ok(ContactStatus::from_stored(&self.0.status)?)
    }
    async fn tags(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(load_one::<TagsByContact, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default())
    }
    /// Tenant-defined fields, a JSON object.
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company_id)
            .await?
            .map(CompanyNode))
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    /// The contact's first opportunities, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<OpportunityNode>> {
        let rows =
            load_one::<OpportunitiesByContact, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OpportunityNode::new)
            .collect())
    }
    async fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_activity_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub(crate) async fn contact_page(
    ctx: &Context<'_>,
    filter: &contacts::ContactFilter,
    order_by: Option<ContactOrder>,
    page: &PageRequest,
) -> AppResult<Page<ContactNode>> {
    let (field, direction) = match order_by {
        Some(order) => (order.field, order.direction),
        None => (contacts::ContactOrderField::CreatedAt, SortDirection::Asc),
    };
    let conn = ctx.conn().await?;
    let rows = contacts::list(conn, filter, field, direction == SortDirection::Desc, page).await?;
    let total = total_if_asked(ctx, contacts::count(conn, filter)).await?;
    page.connection(
        rows,
        |c| Cursor {
            id: c.id,
            key: contacts::sort_key(c, field),
        },
        |c| Ok(ContactNode(c)),
        total,
    )
}

#[derive(Default)]
pub struct ContactsQuery;

#[Object]
impl ContactsQuery {
    /// Contacts matching `filter`, in `orderBy` order (default: creation).
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ContactFilterInput>,
        order_by: Option<ContactOrder>,
    ) -> GqlResult<Page<ContactNode>> {
        let principal = ctx.principal()?;
        let filter = filter.unwrap_or_default().parse(principal.user_id)?;
        let page = PageRequest::parse(first, after, last, before)?;
        Ok(contact_page(ctx, &filter, order_by, &page).await?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ContactNode> {
        let id = parse_id(&id, "id")?;
        Ok(ContactNode(find_contact(ctx.conn().await?, id).await?))
    }

    /// Leads gone quiet: contacts in status contacted or qualified with no activity (and,
    /// if never active, not created) in the last `days` days.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn cold_leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 7)] days: i32,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Page<ContactNode>> {
        if !(1..=3650).contains(&days) {
            return Err(AppError::bad_input("days", "days is between 1 and 3650").into());
        }
        let filter = contacts::ContactFilter {
            statuses: vec![ContactStatus::Contacted, ContactStatus::Qualified],
            inactive_since: Some(Utc::now() - Duration::days(i64::from(days))),
            ..Default::default()
        };
        let page = PageRequest::parse(first, after, last, before)?;
        Ok(contact_page(ctx, &filter, None, &page).await?)
    }
}

#[derive(Default)]
pub struct ContactsMutation;

#[Object]
impl ContactsMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> GqlResult<ContactNode> {
        let new = input.parse()?;
        Ok(ContactNode(
            contacts::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateContactInput,
    ) -> GqlResult<ContactNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(ContactNode(
            contacts::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Deletes a contact with its activities; its opportunities stay, without a contact.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_contact(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        contacts::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }
}
