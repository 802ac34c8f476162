//! Companies over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::tenant::company;
use identity::schema::UserNode;
use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt, load_one,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};

use crate::{
    companies::{
        self, CompanyChanges, CompanyFilter, NewCompany,
        loader::{ContactsByCompany, OpportunitiesByCompany},
    },
    contacts::schema::ContactNode,
    opportunities::schema::OpportunityNode,
    shared::{
        Patch, edge_limit, id, opt_id, optional_text, patch_id, patch_text, required_text, user,
    },
    types::CompanySize,
};

#[derive(InputObject, Clone)]
pub struct AddressInput {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl AddressInput {
    fn parse(self) -> AppResult<serde_json::Value> {
        let country = self
            .country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        if let Some(code) = &country
            && (code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(AppError::bad_input(
                "address.country",
                "a country is a two-letter ISO 3166 code",
            ));
        }
        let address = Address {
            street: optional_text(self.street.as_deref(), "address.street", 200)?,
            city: optional_text(self.city.as_deref(), "address.city", 100)?,
            region: optional_text(self.region.as_deref(), "address.region", 100)?,
            postal_code: optional_text(self.postal_code.as_deref(), "address.postalCode", 20)?,
            country,
        };
        serde_json::to_value(address).map_err(|e| AppError::internal(e.to_string()))
    }
}

pub(crate) fn parse_domain(raw: &str) -> AppResult<String> {
    let domain = raw.trim().trim_end_matches('/').to_lowercase();
    let domain = domain
        .strip_prefix("https://")
        .or_else(|| domain.strip_prefix("http://"))
        .unwrap_or(&domain)
        .to_owned();
    if domain.is_empty()
        || domain.len() > 253
        || !domain.contains('.')
        || domain.contains(char::is_whitespace)
    {
        return Err(AppError::bad_input(
            "domain",
            format!("{raw:?} is not a domain name"),
        ));
    }
    Ok(domain)
}

#[derive(InputObject)]
pub struct CreateCompanyInput {
    pub name: String,
    /// Web domain (`acme.com`).
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub size: Option<CompanySize>,
    pub address: Option<AddressInput>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
}

impl CreateCompanyInput {
    pub fn parse(self) -> AppResult<NewCompany> {
        Ok(NewCompany {
            name: required_text(&self.name, "name", 200)?,
            domain: self
                .domain
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(parse_domain)
                .transpose()?,
            industry: optional_text(self.industry.as_deref(), "industry", 100)?,
            size: self.size,
            address: self.address.map(AddressInput::parse).transpose()?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct UpdateCompanyInput {
    pub name: Option<String>,
    pub domain: MaybeUndefined<String>,
    pub industry: MaybeUndefined<String>,
    pub size: MaybeUndefined<CompanySize>,
    pub address: MaybeUndefined<AddressInput>,
    pub owner_id: MaybeUndefined<ID>,
}

impl UpdateCompanyInput {
    pub fn parse(self) -> AppResult<CompanyChanges> {
        Ok(CompanyChanges {
            name: self
                .name
                .as_deref()
                .map(|n| required_text(n, "name", 200))
                .transpose()?,
            domain: patch_text(self.domain, "domain", 253)?.try_map(|d| parse_domain(&d))?,
            industry: patch_text(self.industry, "industry", 100)?,
            size: Patch::from_graphql(self.size),
            address: Patch::from_graphql(self.address).try_map(AddressInput::parse)?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct CompanyFilterInput {
    /// Part of the name.
    pub search: Option<String>,
    pub owner_id: Option<ID>,
    pub industry: Option<String>,
}

impl CompanyFilterInput {
    pub fn parse(self) -> AppResult<CompanyFilter> {
        Ok(CompanyFilter {
            search: self.search,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            industry: self.industry,
        })
    }
}

/// A postal address.
#[derive(SimpleObject, Clone, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

pub struct CompanyNode(pub company::Model);

impl CompanyNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("name", &["name"]),
        ("domain", &["domain"]),
        ("industry", &["industry"]),
        ("size", &["size"]),
        ("address", &["address"]),
        ("owner", &["owner_id"]),
        ("contacts", &[]),
        ("opportunities", &[]),
        ("createdAt", &["created_at"]),
        ("updatedAt", &["updated_at"]),
    ];
}

/// A company (account) that contacts and opportunities belong to.
#[Object(name = "Company", serial)]
impl CompanyNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    async fn size(&self) -> GqlResult<Option<CompanySize>> {
        Ok(self
            .0
            .size
            .as_deref()
            .map(CompanySize::from_stored)
            .transpose()?)
    }
    async fn address(&self) -> Option<Address> {
        self.0
            .address
            .clone()
            .and_then(|a| serde_json::from_value(a).ok())
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    /// The company's first contacts, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<ContactNode>> {
        let rows = load_one::<ContactsByCompany, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ContactNode)
            .collect())
    }
    /// The company's first opportunities, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<OpportunityNode>> {
        let rows =
            load_one::<OpportunitiesByCompany, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OpportunityNode::new)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct CompaniesQuery;

#[Object]
impl CompaniesQuery {
    /// Companies by name.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CompanyFilterInput>,
    ) -> GqlResult<Page<CompanyNode>> {
        let filter = filter.unwrap_or_default().parse()?;
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = companies::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, companies::count(conn, &filter)).await?;
        Ok(page.connection(
            rows,
            |c| Cursor::keyed(c.id, c.name_key.clone()),
            |c| Ok(CompanyNode(c)),
            total,
        )?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn company(&self, ctx: &Context<'_>, id: ID) -> GqlResult<CompanyNode> {
        let id = parse_id(&id, "id")?;
        Ok(CompanyNode(companies::find(ctx.conn().await?, id).await?))
    }
}

#[derive(Default)]
pub struct CompaniesMutation;

#[Object]
impl CompaniesMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_company(
        &self,
        ctx: &Context<'_>,
        input: CreateCompanyInput,
    ) -> GqlResult<CompanyNode> {
        let new = input.parse()?;
        Ok(CompanyNode(
            companies::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_company(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCompanyInput,
    ) -> GqlResult<CompanyNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(CompanyNode(
            companies::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Deletes a company; its contacts and opportunities stay, without a company.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_company(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        companies::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }
}
